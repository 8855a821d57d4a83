package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Well-known UIDs used by the inventory report.
const (
	BasicTextSRClass     = "1.2.840.10008.5.1.4.1.1.88.11"
	explicitVRLittle     = "1.2.840.10008.1.2.1"
	implementationClass  = "1.2.826.0.1.3680043.10.1428.1"
	researchUseStatement = "Research use only. Not for diagnostic use."
)

// InventoryPipeline is a minimal Pipeline that reports what was received: one Basic Text SR per study
// listing its series, naming the SRs of earlier runs in the Predecessor Documents Sequence. sacrum serve
// uses it until the analysis pipeline is configured; tests use it as their pipeline.
type InventoryPipeline struct {
	Manufacturer string // written to Manufacturer (0008,0070); default "sacrum"
	DeviceSerial string // written to DeviceSerialNumber (0018,1000)
	Delay        time.Duration
}

// Process writes the inventory SR into in.OutDir.
func (p InventoryPipeline) Process(ctx context.Context, in *StudyInput) (*Results, error) {
	start := time.Now()
	if p.Delay > 0 {
		select {
		case <-time.After(p.Delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if len(in.Instances) == 0 {
		return nil, fmt.Errorf("study %s has no instances", in.StudyUID)
	}
	patient, err := readPatient(in.Instances[0].Path)
	if err != nil {
		return nil, err
	}
	perSeries := map[string]int{}
	desc := map[string]string{}
	for _, inst := range in.Instances {
		perSeries[inst.SeriesUID]++
		desc[inst.SeriesUID] = fmt.Sprintf("%s series %s %q", inst.Modality, inst.SeriesNumber, inst.SeriesDesc)
	}
	var lines []string
	for uid, n := range perSeries {
		lines = append(lines, fmt.Sprintf("%s: %d instances (%s)", desc[uid], n, uid))
	}
	sort.Strings(lines)
	text := fmt.Sprintf("%s\nStudy %s: %d instances in %d series.", researchUseStatement, in.StudyUID, len(in.Instances), len(perSeries))
	for _, l := range lines {
		text += "\n" + l
	}
	sopUID, err := NewUID()
	if err != nil {
		return nil, err
	}
	seriesUID, err := NewUID()
	if err != nil {
		return nil, err
	}
	manufacturer := p.Manufacturer
	if manufacturer == "" {
		manufacturer = "sacrum"
	}
	now := time.Now()
	el := func(t tag.Tag, v any) *dicom.Element {
		e, err2 := dicom.NewElement(t, v)
		if err2 != nil && err == nil {
			err = fmt.Errorf("element %v: %w", t, err2)
		}
		return e
	}
	code := func(t tag.Tag, value, scheme, meaning string) *dicom.Element {
		return el(t, [][]*dicom.Element{{
			el(tag.CodeValue, []string{value}), el(tag.CodingSchemeDesignator, []string{scheme}),
			el(tag.CodeMeaning, []string{meaning}),
		}})
	}
	elems := []*dicom.Element{
		el(tag.FileMetaInformationVersion, []byte{0, 1}),
		el(tag.MediaStorageSOPClassUID, []string{BasicTextSRClass}),
		el(tag.MediaStorageSOPInstanceUID, []string{sopUID}),
		el(tag.TransferSyntaxUID, []string{explicitVRLittle}),
		el(tag.ImplementationClassUID, []string{implementationClass}),
		el(tag.SpecificCharacterSet, []string{"ISO_IR 192"}),
		el(tag.InstanceCreationDate, []string{now.Format("20060102")}),
		el(tag.InstanceCreationTime, []string{now.Format("150405")}),
		el(tag.SOPClassUID, []string{BasicTextSRClass}),
		el(tag.SOPInstanceUID, []string{sopUID}),
		el(tag.StudyDate, []string{patient.studyDate}),
		el(tag.ContentDate, []string{now.Format("20060102")}),
		el(tag.StudyTime, []string{patient.studyTime}),
		el(tag.ContentTime, []string{now.Format("150405")}),
		el(tag.AccessionNumber, []string{in.Accession}),
		el(tag.Modality, []string{"SR"}),
		el(tag.Manufacturer, []string{manufacturer}),
		el(tag.ReferringPhysicianName, []string{""}),
		el(tag.SeriesDescription, []string{"sacrum inventory (research use only)"}),
		el(tag.PatientName, []string{patient.name}),
		el(tag.PatientID, []string{patient.id}),
		el(tag.PatientBirthDate, []string{patient.birthDate}),
		el(tag.PatientSex, []string{patient.sex}),
		el(tag.DeviceSerialNumber, []string{p.DeviceSerial}),
		el(tag.StudyInstanceUID, []string{in.StudyUID}),
		el(tag.SeriesInstanceUID, []string{seriesUID}),
		el(tag.StudyID, []string{patient.studyID}),
		el(tag.SeriesNumber, []string{"9901"}),
		el(tag.InstanceNumber, []string{"1"}),
		el(tag.ValueType, []string{"CONTAINER"}),
		code(tag.ConceptNameCodeSequence, "11528-7", "LN", "Radiology Report"),
		el(tag.ContinuityOfContent, []string{"SEPARATE"}),
		el(tag.CompletionFlag, []string{"COMPLETE"}),
		el(tag.VerificationFlag, []string{"UNVERIFIED"}),
		el(tag.ReferencedPerformedProcedureStepSequence, [][]*dicom.Element{}),
		el(tag.PerformedProcedureCodeSequence, [][]*dicom.Element{}),
		el(tag.ContentSequence, [][]*dicom.Element{{
			el(tag.RelationshipType, []string{"CONTAINS"}),
			el(tag.ValueType, []string{"TEXT"}),
			code(tag.ConceptNameCodeSequence, "121070", "DCM", "Findings"),
			el(tag.TextValue, []string{text}),
		}}),
	}
	if len(in.Predecessors) > 0 {
		var refs [][]*dicom.Element
		for _, r := range in.Predecessors {
			refs = append(refs, []*dicom.Element{
				el(tag.ReferencedSOPClassUID, []string{r.SOPClassUID}),
				el(tag.ReferencedSOPInstanceUID, []string{r.SOPInstanceUID}),
			})
		}
		series := in.Predecessors[0].SeriesUID
		elems = append(elems, el(tag.PredecessorDocumentsSequence, [][]*dicom.Element{{
			el(tag.ReferencedSeriesSequence, [][]*dicom.Element{{
				el(tag.ReferencedSOPSequence, refs),
				el(tag.SeriesInstanceUID, []string{series}),
			}}),
			el(tag.StudyInstanceUID, []string{in.StudyUID}),
		}}))
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(elems, func(i, j int) bool {
		a, b := elems[i].Tag, elems[j].Tag
		return a.Group < b.Group || a.Group == b.Group && a.Element < b.Element
	})
	out := filepath.Join(in.OutDir, sopUID+".dcm")
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	if err := dicom.Write(f, dicom.Dataset{Elements: elems}, dicom.SkipVRVerification(), dicom.SkipValueTypeVerification()); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	summary, _ := json.Marshal(map[string]any{"instances": len(in.Instances), "series": len(perSeries),
		"predecessors": len(in.Predecessors), "research_use_only": true})
	return &Results{
		Objects: []ResultObject{{Path: out, SOPClassUID: BasicTextSRClass, SOPInstanceUID: sopUID, SeriesUID: seriesUID}},
		Summary: summary,
		Stages:  []StageTime{{Stage: "inventory", Duration: time.Since(start)}},
	}, nil
}

type patientInfo struct {
	name, id, birthDate, sex, studyDate, studyTime, studyID string
}

// readPatient copies the patient and study attributes of an input instance for the report.
func readPatient(path string) (patientInfo, error) {
	var p patientInfo
	ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
	if err != nil {
		return p, fmt.Errorf("read patient module of %s: %w", path, err)
	}
	get := func(t tag.Tag) string {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			return ""
		}
		return firstString(e)
	}
	p.name, p.id, p.birthDate, p.sex = get(tag.PatientName), get(tag.PatientID), get(tag.PatientBirthDate), get(tag.PatientSex)
	p.studyDate, p.studyTime, p.studyID = get(tag.StudyDate), get(tag.StudyTime), get(tag.StudyID)
	return p, nil
}

// NewUID returns a UUID-derived UID under the 2.25 root (PS3.5 §B.2).
func NewUID() (string, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 122))
	if err != nil {
		return "", err
	}
	return "2.25." + n.String(), nil
}
