package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/store"
)

// MRClass is the MR Image Storage SOP Class UID.
const MRClass = "1.2.840.10008.5.1.4.1.1.4"

// MR describes one synthetic MR instance.
type MR struct {
	StudyUID, SeriesUID, SOPInstanceUID string
	Accession, PatientName, PatientID   string
	StudyDate                           string // YYYYMMDD
	SeriesNumber, InstanceNumber        int
	Rows, Columns                       int // default 8×8
	Fill                                byte
	Manufacturer, DeviceSerial          string
}

// WriteMR writes m as an explicit VR little endian Part 10 file at path.
func WriteMR(path string, m MR) error {
	if m.Rows == 0 {
		m.Rows = 8
	}
	if m.Columns == 0 {
		m.Columns = 8
	}
	var err error
	el := func(t tag.Tag, v any) *dicom.Element {
		e, err2 := dicom.NewElement(t, v)
		if err2 != nil && err == nil {
			err = fmt.Errorf("element %v: %w", t, err2)
		}
		return e
	}
	pix := make([]byte, 2*m.Rows*m.Columns)
	for i := range pix {
		pix[i] = m.Fill + byte(i)
	}
	elems := []*dicom.Element{
		el(tag.FileMetaInformationVersion, []byte{0, 1}),
		el(tag.MediaStorageSOPClassUID, []string{MRClass}),
		el(tag.MediaStorageSOPInstanceUID, []string{m.SOPInstanceUID}),
		el(tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
		el(tag.ImplementationClassUID, []string{"1.2.826.0.1.3680043.10.1428.2"}),
		el(tag.SOPClassUID, []string{MRClass}),
		el(tag.SOPInstanceUID, []string{m.SOPInstanceUID}),
		el(tag.StudyDate, []string{m.StudyDate}),
		el(tag.StudyTime, []string{"120000"}),
		el(tag.AccessionNumber, []string{m.Accession}),
		el(tag.Modality, []string{"MR"}),
		el(tag.Manufacturer, []string{m.Manufacturer}),
		el(tag.ReferringPhysicianName, []string{""}),
		el(tag.SeriesDescription, []string{"STIR cor"}),
		el(tag.PatientName, []string{m.PatientName}),
		el(tag.PatientID, []string{m.PatientID}),
		el(tag.PatientBirthDate, []string{""}),
		el(tag.PatientSex, []string{"O"}),
		el(tag.DeviceSerialNumber, []string{m.DeviceSerial}),
		el(tag.StudyInstanceUID, []string{m.StudyUID}),
		el(tag.SeriesInstanceUID, []string{m.SeriesUID}),
		el(tag.StudyID, []string{"1"}),
		el(tag.SeriesNumber, []string{fmt.Sprint(m.SeriesNumber)}),
		el(tag.InstanceNumber, []string{fmt.Sprint(m.InstanceNumber)}),
		el(tag.SamplesPerPixel, []int{1}),
		el(tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
		el(tag.Rows, []int{m.Rows}),
		el(tag.Columns, []int{m.Columns}),
		el(tag.BitsAllocated, []int{16}),
		el(tag.BitsStored, []int{12}),
		el(tag.HighBit, []int{11}),
		el(tag.PixelRepresentation, []int{0}),
		el(tag.PixelData, pix),
	}
	if err != nil {
		return err
	}
	sort.SliceStable(elems, func(i, j int) bool {
		a, b := elems[i].Tag, elems[j].Tag
		return a.Group < b.Group || a.Group == b.Group && a.Element < b.Element
	})
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := dicom.Write(f, dicom.Dataset{Elements: elems}, dicom.SkipVRVerification(), dicom.SkipValueTypeVerification()); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Study writes a study of series×perSeries instances under dir (one file per instance) and returns
// the paths. UIDs derive from root (e.g. "1.2.826.0.1.3680043.10.1428.9.7").
func Study(dir, root, accession string, series, perSeries int) ([]string, error) {
	var paths []string
	for s := 1; s <= series; s++ {
		for i := 1; i <= perSeries; i++ {
			m := MR{StudyUID: root, SeriesUID: fmt.Sprintf("%s.%d", root, s),
				SOPInstanceUID: fmt.Sprintf("%s.%d.%d", root, s, i), Accession: accession,
				PatientName: "SYNTH^" + accession, PatientID: "P" + accession, StudyDate: "20260101",
				SeriesNumber: s, InstanceNumber: i, Fill: byte(s*31 + i)}
			p := filepath.Join(dir, fmt.Sprintf("s%d_i%d.dcm", s, i))
			if err := WriteMR(p, m); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// Sender is a fake outbox Sender: while Down it fails the association; Status answers every file
// with that DIMSE status. It records the SOP files it was asked to send.
type Sender struct {
	mu     sync.Mutex
	down   bool
	status uint16
	calls  int
	sent   []string
}

// SetDown makes the destination unreachable (true) or reachable.
func (s *Sender) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetStatus sets the DIMSE status answered for every file.
func (s *Sender) SetStatus(st uint16) { s.mu.Lock(); s.status = st; s.mu.Unlock() }

// Calls counts associations attempted.
func (s *Sender) Calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

// Sent lists the paths acknowledged with success, in order.
func (s *Sender) Sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// Send implements store.Sender.
func (s *Sender) Send(ctx context.Context, d store.Destination, paths []string) ([]dimse.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down {
		return nil, errors.New("dial tcp: connection refused")
	}
	out := make([]dimse.SendResult, len(paths))
	for i, p := range paths {
		if _, err := os.Stat(p); err != nil {
			out[i] = dimse.SendResult{Path: p, Err: err}
			continue
		}
		out[i] = dimse.SendResult{Path: p, Status: s.status}
		if out[i].OK() {
			s.sent = append(s.sent, p)
		}
	}
	return out, nil
}

// Receive hands a copy of a Part 10 file to st the way the C-STORE SCP does: Admit, a temporary file
// in st.TempDir(), then Store.
func Receive(ctx context.Context, st *store.Store, path, callingAE string) (uint16, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	req := dimse.StoreRequest{Assoc: dimse.AssociationInfo{CallingAE: callingAE}}
	if s := st.Admit(ctx, &req); s != dimse.StatusSuccess {
		return s, nil
	}
	tmp, err := os.CreateTemp(st.TempDir(), "rx-*")
	if err != nil {
		return 0, err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return st.Store(ctx, &dimse.StoredInstance{StoreRequest: req, Path: tmp.Name(), Size: int64(len(data))})
}
