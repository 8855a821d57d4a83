// Package infer runs ONNX models on volumes through the official ONNX Runtime (github.com/yalue/onnxruntime_go,
// cgo): model manifests (models/<name>/model.yaml) and their start-up validation, slice-wise segmentation of the
// two sacroiliac-joint regions with largest-component post-processing, and deep features (encoder feature maps
// pooled inside each region, kept for class-activation heat maps).
//
// A model sees 2D slices of the STIR grid resampled in-plane to the manifest's spacing and patch size; its
// outputs are mapped back onto the STIR grid by bilinear interpolation, so any resolution works.
//
// Imports: the standard library, pipeline/image, github.com/yalue/onnxruntime_go, go.yaml.in/yaml/v3.
package infer
