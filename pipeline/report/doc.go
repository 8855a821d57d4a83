// Package report writes the result objects of a processed study into new series of the same
// study, as DICOM Part 10 files (explicit VR little endian):
//
//   - SR: a Comprehensive 3D SR (or Comprehensive / Enhanced SR for older archives) with the
//     TID 1500 Imaging Measurement Report tree: language, device observer, procedure reported
//     (LOINC 36031-3 "MR Sacroiliac Joint"), an image library of the source STIR and T1 images,
//     and per endpoint (ASAS40, ASAS20) a TID 1501 measurement group with tracking identifier and
//     UID, finding site sacroiliac joint (SCT 39723000, bilateral), algorithm name and version,
//     model variant (DLRC or DLR-only), a reference to the SEG segments and the source series,
//     NUM items for the predicted probability, DLR score and decision threshold, the predicted
//     responder / non-responder as CODE, and the top features with their SHAP values. Private
//     concepts use the coding scheme 99SACRUM, declared in the Coding Scheme Identification
//     Sequence. CompletionFlag COMPLETE, VerificationFlag UNVERIFIED; the source images and the
//     SEG are listed in the Current Requested Procedure Evidence Sequence; a re-processed
//     study's SR names the previous SR in the Predecessor Documents Sequence.
//   - SEG: a BINARY Segmentation with two segments (left and right SIJ region), AUTOMATIC (or
//     MANUAL when the segmentation came with the study), on the STIR frame of reference, with
//     per-frame source image references, plane positions and segment identification. It holds,
//     for each segment, the slices that contain at least one voxel of it (Options.AllFrames:
//     every slice). Frames are packed 1 bit per pixel, least significant bit first, rows then
//     columns, frames concatenated without padding (PS3.5 §8.1.1).
//   - Card: a Secondary Capture image (RGB, 1024×768, Burned In Annotation YES, ConversionType
//     WSD) that any viewer shows: the key STIR slice (most ROI voxels) with the ROI outlines and
//     the class-activation map, per endpoint the probability, decision and top feature
//     contributions, the model version and the disclaimer.
//
// Every object carries Manufacturer "sacrum", DeviceSerialNumber = the node UID (IsOwnObject
// recognises them when they are routed back), Contributing Equipment naming the algorithm, and
// "Research use only, not for diagnostic use.". UIDs are derived from the study, the node UID and
// Result.Now (under Result.UIDRoot, or as 2.25 UUID-form UIDs).
//
// Numeric precision: SR NUM items hold NumericValue as a DS of at most 16 characters (14
// significant digits for probabilities: absolute error ≤ 5e-15) and, beside it,
// FloatingPointValue (FD) with the exact float64.
//
// The objects are encoded with pipeline/dcmwrite (explicit VR little endian, stated VRs, defined-length
// sequences, LSB-first 1-bit SEG pixel data, fsync-and-rename writes). suyashkumar/dicom v1.1.0's
// reader unpacks 1-bit data MSB first, so the tests decode SEG bits themselves from the raw value.
//
// dciodvfy warnings accepted (the tests fail on any "Error" line and on any other warning):
//   - SR: "Unrecognized defined term <99SACRUM> for value 1 of attribute <Coding Scheme
//     Designator>", once per private code. No standard codes exist for the predicted response,
//     the DLR score, the model variant or SHAP contributions; 99SACRUM is a private scheme as
//     PS3.16 §8 allows ("99" prefix) and is declared in the Coding Scheme Identification Sequence.
//
// dsrdump prints "W: The VR checker does not support this Specific Character Set: ISO_IR 192":
// the objects are UTF-8 (patient names may need it); DCMTK only skips its string VR check.
//
// ReadSR reads the predictions back from such an SR (for `sacrum demo` and end-to-end tests).
//
// Imports: the standard library, pipeline/image, pipeline/dcmwrite, pipeline/dcmread, golang.org/x/image/font and the
// Liberation fonts (card), github.com/suyashkumar/dicom (ReadSR only). Tests also run the dicom3tools (dciodvfy,
// dcentvfy) and DCMTK (dsrdump) command-line tools.
package report
