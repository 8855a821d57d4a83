package report

import (
	"strconv"
	"strings"
)

// Coded concepts used in the SR and the SEG. Standard codes where they exist: DCM (PS3.16),
// SCT (SNOMED CT), LN (LOINC), UCUM; the rest are sacrum's private codes (99SACRUM), declared
// in the Coding Scheme Identification Sequence.
var (
	codeReport        = code{"126000", "DCM", "Imaging Measurement Report"}
	codeLanguage      = code{"121049", "DCM", "Language of Content Item and Descendants"}
	codeEnglishUS     = code{"en-US", "RFC5646", "English, United States"}
	codeObserverType  = code{"121005", "DCM", "Observer Type"}
	codeDevice        = code{"121007", "DCM", "Device"}
	codeDeviceUID     = code{"121012", "DCM", "Device Observer UID"}
	codeDeviceName    = code{"121013", "DCM", "Device Observer Name"}
	codeDeviceMaker   = code{"121014", "DCM", "Device Observer Manufacturer"}
	codeDeviceModel   = code{"121015", "DCM", "Device Observer Model Name"}
	codeDeviceSerial  = code{"121016", "DCM", "Device Observer Serial Number"}
	codeProcReported  = code{"121058", "DCM", "Procedure reported"}
	codeMRSIJ         = code{"36031-3", "LN", "MR Sacroiliac Joint"}
	codeImageLibrary  = code{"111028", "DCM", "Image Library"}
	codeLibraryGroup  = code{"126200", "DCM", "Image Library Group"}
	codeModality      = code{"121139", "DCM", "Modality"}
	codeMR            = code{"MR", "DCM", "Magnetic Resonance"}
	codeFrameOfRef    = code{"112227", "DCM", "Frame of Reference UID"}
	codeMeasurements  = code{"126010", "DCM", "Imaging Measurements"}
	codeGroup         = code{"125007", "DCM", "Measurement Group"}
	codeTrackingID    = code{"112039", "DCM", "Tracking Identifier"}
	codeTrackingUID   = code{"112040", "DCM", "Tracking Unique Identifier"}
	codeFinding       = code{"121071", "DCM", "Finding"}
	codeFindingSite   = code{"363698007", "SCT", "Finding Site"}
	codeSIJ           = code{"39723000", "SCT", "Sacroiliac joint"}
	codeLaterality    = code{"272741003", "SCT", "Laterality"}
	codeLeft          = code{"7771000", "SCT", "Left"}
	codeRight         = code{"24028007", "SCT", "Right"}
	codeBilateral     = code{"51440002", "SCT", "Right and left"}
	codeAlgorithmName = code{"111001", "DCM", "Algorithm Name"}
	codeAlgorithmVer  = code{"111003", "DCM", "Algorithm Version"}
	codeRefSegment    = code{"121191", "DCM", "Referenced Segment"}
	codeSourceSeries  = code{"121232", "DCM", "Source series for segmentation"}
	codeProbability   = code{"{probability}", "UCUM", "probability"}
	codeNoUnits       = code{"1", "UCUM", "no units"}

	codePredicted    = code{"PREDRESP", "99SACRUM", "Predicted treatment response"}
	codeResponder    = code{"RESP", "99SACRUM", "Predicted responder"}
	codeNonResponder = code{"NONRESP", "99SACRUM", "Predicted non-responder"}
	codeProb         = code{"PROB", "99SACRUM", "Predicted probability of response"}
	codeDLRScore     = code{"DLRSCORE", "99SACRUM", "Deep learning radiomics score"}
	codeThreshold    = code{"THRESHOLD", "99SACRUM", "Decision threshold"}
	codeVariant      = code{"VARIANT", "99SACRUM", "Model variant"}
	codeDLRC         = code{"DLRC", "99SACRUM", "DLR score with clinical data (DLRC)"}
	codeDLROnly      = code{"DLRONLY", "99SACRUM", "DLR score only, clinical inputs missing"}
	codeSHAP         = code{"SHAP", "99SACRUM", "Feature contribution (SHAP, log-odds)"}
	codeFeatureName  = code{"FEATURE", "99SACRUM", "Feature name"}
	codeFeatureValue = code{"FEATVALUE", "99SACRUM", "Feature value"}
	codeIntendedUse  = code{"USE", "99SACRUM", "Intended use"}
)

// endpointCode is the Finding of an endpoint's measurement group.
func endpointCode(endpoint string) code {
	return code{strings.ToUpper(endpoint), "99SACRUM", endpoint + " response to TNF inhibitor"}
}

// privateScheme declares 99SACRUM (PS3.3 C.12.1.1.4).
func privateScheme() dataset {
	return dataset{
		str(tag(0x0008, 0x0102), "SH", "99SACRUM"),
		str(tag(0x0008, 0x0115), "ST", "sacrum local codes"),
		str(tag(0x0008, 0x0116), "ST", "sacrum project"),
	}
}

// content is one SR content item (PS3.3 C.17.3).
type content struct {
	rel, vt  string
	name     code
	text     string // TEXT
	uid      string // UIDREF
	coded    code   // CODE
	num      float64
	units    code      // NUM
	ref      *sopRef   // IMAGE
	template string    // CONTAINER: TID of a root or template container
	children []content // ContentSequence
}

// sopRef is an IMAGE reference, optionally to a frame or to segments.
type sopRef struct {
	class, instance string
	frame           int
	segments        []uint16
}

func text(rel string, name code, v string) content {
	return content{rel: rel, vt: "TEXT", name: name, text: v}
}
func uidref(rel string, name code, v string) content {
	return content{rel: rel, vt: "UIDREF", name: name, uid: v}
}
func codeItem(rel string, name, v code, children ...content) content {
	return content{rel: rel, vt: "CODE", name: name, coded: v, children: children}
}
func num(rel string, name code, v float64, units code, children ...content) content {
	return content{rel: rel, vt: "NUM", name: name, num: v, units: units, children: children}
}
func container(rel string, name code, children ...content) content {
	return content{rel: rel, vt: "CONTAINER", name: name, children: children}
}

// encode writes the content item's attributes.
func (c content) encode() dataset {
	var d dataset
	if c.rel != "" {
		d.add(str(tag(0x0040, 0xA010), "CS", c.rel))
	}
	d.add(str(tag(0x0040, 0xA040), "CS", c.vt))
	if c.name != (code{}) { // unnamed IMAGE items of the image library
		d.add(codeSeq(tag(0x0040, 0xA043), c.name))
	}
	switch c.vt {
	case "TEXT":
		d.add(str(tag(0x0040, 0xA160), "UT", c.text))
	case "UIDREF":
		d.add(str(tag(0x0040, 0xA124), "UI", c.uid))
	case "CODE":
		d.add(codeSeq(tag(0x0040, 0xA168), c.coded))
	case "NUM":
		// NumericValue (DS, ≤16 characters) for every reader, and FloatingPointValue (FD)
		// holding the exact binary value.
		d.add(sq(tag(0x0040, 0xA300), dataset{
			codeSeq(tag(0x0040, 0x08EA), c.units),
			str(tag(0x0040, 0xA30A), "DS", formatDS(c.num)),
			fd(tag(0x0040, 0xA161), c.num),
		}))
	case "IMAGE":
		item := dataset{str(tag(0x0008, 0x1150), "UI", c.ref.class), str(tag(0x0008, 0x1155), "UI", c.ref.instance)}
		if c.ref.frame > 0 {
			item.add(str(tag(0x0008, 0x1160), "IS", strconv.Itoa(c.ref.frame)))
		}
		if len(c.ref.segments) > 0 {
			item.add(us(tag(0x0062, 0x000B), c.ref.segments...))
		}
		d.add(sq(tag(0x0008, 0x1199), item))
	case "CONTAINER":
		d.add(str(tag(0x0040, 0xA050), "CS", "SEPARATE"))
		if c.template != "" {
			d.add(sq(tag(0x0040, 0xA504), dataset{
				str(tag(0x0008, 0x0105), "CS", "DCMR"),
				str(tag(0x0040, 0xDB00), "CS", c.template),
			}))
		}
	}
	if len(c.children) > 0 {
		items := make([]dataset, len(c.children))
		for i, ch := range c.children {
			items[i] = ch.encode()
		}
		d.add(sq(tag(0x0040, 0xA730), items...))
	}
	return d
}

// Relationship types.
const (
	contains    = "CONTAINS"
	hasConcept  = "HAS CONCEPT MOD"
	hasObsCtx   = "HAS OBS CONTEXT"
	hasAcqCtx   = "HAS ACQ CONTEXT"
	hasProperty = "HAS PROPERTIES"
)

// srTree builds the TID 1500 content tree.
func srTree(r *Result, u uidSet, seg ObjectRef) content {
	model := strings.TrimSpace(r.Model.Name + " " + r.Model.Version)
	root := container("", codeReport,
		codeItem(hasConcept, codeLanguage, codeEnglishUS),
		codeItem(hasObsCtx, codeObserverType, codeDevice),
		uidref(hasObsCtx, codeDeviceUID, r.Node.UID),
	)
	root.template = "1500"
	if r.Node.Name != "" {
		root.children = append(root.children, text(hasObsCtx, codeDeviceName, r.Node.Name))
	}
	root.children = append(root.children,
		text(hasObsCtx, codeDeviceMaker, Manufacturer),
		text(hasObsCtx, codeDeviceModel, model),
		text(hasObsCtx, codeDeviceSerial, r.Node.UID),
		codeItem(hasConcept, codeProcReported, codeMRSIJ),
	)

	library := container(contains, codeImageLibrary)
	for _, s := range []SeriesRef{r.Source.STIR, r.Source.T1} {
		if len(s.Instances) == 0 {
			continue
		}
		g := container(contains, codeLibraryGroup,
			codeItem(hasAcqCtx, codeModality, codeMR))
		if s.FrameOfReferenceUID != "" {
			g.children = append(g.children, uidref(hasAcqCtx, codeFrameOfRef, s.FrameOfReferenceUID))
		}
		for _, in := range s.Instances {
			g.children = append(g.children, content{rel: contains, vt: "IMAGE",
				ref: &sopRef{class: in.SOPClassUID, instance: in.SOPInstanceUID, frame: in.Frame}})
		}
		library.children = append(library.children, g)
	}
	root.children = append(root.children, library)

	measurements := container(contains, codeMeasurements)
	for _, p := range r.Predictions {
		measurements.children = append(measurements.children, measurementGroup(r, p, u.tracking[p.Endpoint], seg))
	}
	root.children = append(root.children, measurements, text(contains, codeIntendedUse, Disclaimer))
	return root
}

// measurementGroup is one endpoint's TID 1501 group.
func measurementGroup(r *Result, p Prediction, trackingUID string, seg ObjectRef) content {
	variant := codeDLRC
	if p.Variant != "DLRC" {
		variant = codeDLROnly
	}
	verdict := codeNonResponder
	if p.Responder {
		verdict = codeResponder
	}
	segments := presentSegments(r)
	g := container(contains, codeGroup,
		text(hasObsCtx, codeTrackingID, p.Endpoint+" response prediction"),
		uidref(hasObsCtx, codeTrackingUID, trackingUID),
		codeItem(contains, codeFinding, endpointCode(p.Endpoint)),
		codeItem(hasConcept, codeFindingSite, codeSIJ, codeItem(hasConcept, codeLaterality, codeBilateral)),
		content{rel: hasConcept, vt: "TEXT", name: codeAlgorithmName, text: r.Model.Name,
			children: []content{text(hasConcept, codeAlgorithmVer, r.Model.Version)}},
		codeItem(hasConcept, codeVariant, variant),
		content{rel: contains, vt: "IMAGE", name: codeRefSegment,
			ref: &sopRef{class: seg.SOPClassUID, instance: seg.SOPInstanceUID, segments: segments}},
		uidref(contains, codeSourceSeries, r.Source.STIR.SeriesInstanceUID),
		num(contains, codeProb, p.Probability, codeProbability),
		num(contains, codeDLRScore, p.DLRScore, codeNoUnits),
		num(contains, codeThreshold, p.Threshold, codeProbability),
		codeItem(contains, codePredicted, verdict),
	)
	for _, f := range p.TopFeatures {
		g.children = append(g.children, num(contains, codeSHAP, f.SHAP, codeNoUnits,
			text(hasConcept, codeFeatureName, f.Name),
			num(hasProperty, codeFeatureValue, f.Value, codeNoUnits)))
	}
	return g
}

// presentSegments are the SEG segment numbers (1 left, 2 right) with at least one voxel.
func presentSegments(r *Result) []uint16 {
	var s []uint16
	for _, l := range []uint8{1, 2} {
		if r.Labels.Count(l) > 0 {
			s = append(s, uint16(l))
		}
	}
	return s
}

// buildSR assembles the SR document.
func buildSR(r *Result, u uidSet, objs Objects) (dataset, error) {
	srClass, err := r.Options.SRClass.sopClass()
	if err != nil {
		return nil, err
	}
	srNumber, _, _ := r.Options.seriesNumbers()
	d := commonModules(r, srClass, u.srSOP, u.srSeries, "SR", "sacrum TNFi response prediction SR (research use only)", srNumber)
	d.add(
		sq(tag(0x0008, 0x0110), privateScheme()),
		sq(tag(0x0008, 0x1111)), // Referenced Performed Procedure Step Sequence (type 2, empty)
		str(tag(0x0040, 0xA491), "CS", "COMPLETE"),
		str(tag(0x0040, 0xA493), "CS", "UNVERIFIED"),
		sq(tag(0x0040, 0xA372), codeMRSIJ.item()),
	)
	// Evidence: the source images and the SEG the content tree references.
	evidence := []seriesInstances{seriesOf(r.Source.STIR)}
	if len(r.Source.T1.Instances) > 0 {
		evidence = append(evidence, seriesOf(r.Source.T1))
	}
	evidence = append(evidence, seriesInstances{objs.SEG.SeriesInstanceUID, [][2]string{{objs.SEG.SOPClassUID, objs.SEG.SOPInstanceUID}}})
	d.add(hierarchicalRef(tag(0x0040, 0xA375), r.Source.StudyInstanceUID, evidence))
	if p := r.Predecessor; p != nil {
		d.add(hierarchicalRef(tag(0x0040, 0xA360), r.Source.StudyInstanceUID,
			[]seriesInstances{{p.SeriesInstanceUID, [][2]string{{p.SOPClassUID, p.SOPInstanceUID}}}}))
	}
	d = append(d, srTree(r, u, objs.SEG).encode()...)
	return d, nil
}

// seriesInstances is one series of a hierarchical SOP instance reference.
type seriesInstances struct {
	series    string
	instances [][2]string // SOP class, SOP instance
}

// seriesOf lists a source series' instances once each (multi-frame sources repeat them).
func seriesOf(s SeriesRef) seriesInstances {
	out := seriesInstances{series: s.SeriesInstanceUID}
	seen := map[string]bool{}
	for _, in := range s.Instances {
		if !seen[in.SOPInstanceUID] {
			seen[in.SOPInstanceUID] = true
			out.instances = append(out.instances, [2]string{in.SOPClassUID, in.SOPInstanceUID})
		}
	}
	return out
}

// hierarchicalRef is a Hierarchical SOP Instance Reference Macro (PS3.3 Table C.17-3) for one
// study.
func hierarchicalRef(t uint32, study string, series []seriesInstances) elem {
	items := make([]dataset, len(series))
	for i, s := range series {
		sops := make([]dataset, len(s.instances))
		for j, in := range s.instances {
			sops[j] = dataset{str(tag(0x0008, 0x1150), "UI", in[0]), str(tag(0x0008, 0x1155), "UI", in[1])}
		}
		items[i] = dataset{str(tag(0x0020, 0x000E), "UI", s.series), sq(tag(0x0008, 0x1199), sops...)}
	}
	return sq(t, dataset{str(tag(0x0020, 0x000D), "UI", study), sq(tag(0x0008, 0x1115), items...)})
}
