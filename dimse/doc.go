// Package dimse implements the DICOM upper layer (PS3.8: PDUs, the association state machine
// Sta1…Sta13 with the ARTIM timer) and the DIMSE services C-ECHO and C-STORE (PS3.7) as SCP and SCU.
//
// It is written by hand because no maintained Go library does this correctly. Command sets are
// encoded with github.com/grailbio/go-dicom/dicomio (implicit VR little endian); datasets are
// streamed to disk, never held whole in memory.
//
// Files:
//
//	pdu.go      PDUs of PS3.8 §9.3: bounds-checked decoding (a malformed PDU is event Evt19), encoding
//	fsm.go      the state machine of PS3.8 §9.2 (Table 9-10), ARTIM and idle timers, on one connection
//	message.go  P-DATA-TF reassembly into DIMSE messages and fragmentation to the peer's maximum length
//	command.go  DIMSE command sets (group 0000) for C-ECHO and C-STORE
//	part10.go   File Meta Information (PS3.10) writing and reading; UIDs of the accepted syntaxes
//	server.go   the SCP: access control, presentation context negotiation, C-STORE to a StoreHandler
//	client.go   the SCU: Dial / Echo / Store / Release, and Echo and SendFiles for whole jobs
//	handler.go  the StoreHandler contract the store implements
//
// Imports: the standard library and github.com/grailbio/go-dicom/dicomio. dimsetest (for tests and
// benchmarks) imports dimse; dimse/internal/loopback starts the test servers of both. dimse must not
// import store/ or pipeline/ (data flows dimse → store → pipeline → store → dimse).
package dimse
