// Package dimse implements the DICOM upper layer (PS3.8: PDUs, the association state machine
// Sta1…Sta13 with the ARTIM timer) and the DIMSE services C-ECHO and C-STORE (PS3.7) as SCP and SCU.
//
// It is written by hand because no maintained Go library does this correctly. Command sets are
// encoded with github.com/grailbio/go-dicom/dicomio (implicit VR little endian); datasets are
// streamed to disk, never held whole in memory.
//
// Imports: the standard library, github.com/grailbio/go-dicom/dicomio and github.com/suyashkumar/dicom.
// It must not import store/ or pipeline/ (data flows dimse → store → pipeline → store → dimse).
package dimse
