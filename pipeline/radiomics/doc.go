// Package radiomics computes IBSI-compliant and PyRadiomics-compatible radiomics features of a
// region of interest (ROI) in a 3D image: pre-processing (normalisation, resampling,
// resegmentation, discretisation), morphology, local intensity, intensity statistics, intensity
// histogram, intensity-volume histogram and the texture families, on the original image and on
// filtered images (LoG, wavelet, …). Settings come from PyRadiomics parameter files.
//
// Imports: the standard library, gonum, go.yaml.in/yaml/v3 and pipeline/image.
package radiomics
