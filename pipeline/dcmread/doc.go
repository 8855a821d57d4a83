// Package dcmread reads element values out of datasets parsed by github.com/suyashkumar/dicom: finding
// an element in a list, the items of a sequence, and string or numeric values whichever way the
// library stored them (strings for DS, IS, CS…; numbers for US, FD…), multi-valued strings split at
// the backslash. Everything absent or of another type reads as empty, never as a panic: the callers
// (pipeline/volume, pipeline/report, pipeline/node) check what they need and say what is missing.
//
// Imports: the standard library and github.com/suyashkumar/dicom.
package dcmread
