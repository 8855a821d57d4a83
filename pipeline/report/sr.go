package report

import (
	"strconv"
	"strings"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
)

// Coded concepts used in the SR and the SEG. Standard codes where they exist: DCM (PS3.16),
// SCT (SNOMED CT), LN (LOINC), UCUM; the rest are sacrum's private codes (99SACRUM), declared
// in the Coding Scheme Identification Sequence.
var (
	codeReport        = dw.Code{Value: "126000", Scheme: "DCM", Meaning: "Imaging Measurement Report"}
	codeLanguage      = dw.Code{Value: "121049", Scheme: "DCM", Meaning: "Language of Content Item and Descendants"}
	codeEnglishUS     = dw.Code{Value: "en-US", Scheme: "RFC5646", Meaning: "English, United States"}
	codeObserverType  = dw.Code{Value: "121005", Scheme: "DCM", Meaning: "Observer Type"}
	codeDevice        = dw.Code{Value: "121007", Scheme: "DCM", Meaning: "Device"}
	codeDeviceUID     = dw.Code{Value: "121012", Scheme: "DCM", Meaning: "Device Observer UID"}
	codeDeviceName    = dw.Code{Value: "121013", Scheme: "DCM", Meaning: "Device Observer Name"}
	codeDeviceMaker   = dw.Code{Value: "121014", Scheme: "DCM", Meaning: "Device Observer Manufacturer"}
	codeDeviceModel   = dw.Code{Value: "121015", Scheme: "DCM", Meaning: "Device Observer Model Name"}
	codeDeviceSerial  = dw.Code{Value: "121016", Scheme: "DCM", Meaning: "Device Observer Serial Number"}
	codeProcReported  = dw.Code{Value: "121058", Scheme: "DCM", Meaning: "Procedure reported"}
	codeMRSIJ         = dw.Code{Value: "36031-3", Scheme: "LN", Meaning: "MR Sacroiliac Joint"}
	codeImageLibrary  = dw.Code{Value: "111028", Scheme: "DCM", Meaning: "Image Library"}
	codeLibraryGroup  = dw.Code{Value: "126200", Scheme: "DCM", Meaning: "Image Library Group"}
	codeModality      = dw.Code{Value: "121139", Scheme: "DCM", Meaning: "Modality"}
	codeMR            = dw.Code{Value: "MR", Scheme: "DCM", Meaning: "Magnetic Resonance"}
	codeFrameOfRef    = dw.Code{Value: "112227", Scheme: "DCM", Meaning: "Frame of Reference UID"}
	codeMeasurements  = dw.Code{Value: "126010", Scheme: "DCM", Meaning: "Imaging Measurements"}
	codeGroup         = dw.Code{Value: "125007", Scheme: "DCM", Meaning: "Measurement Group"}
	codeTrackingID    = dw.Code{Value: "112039", Scheme: "DCM", Meaning: "Tracking Identifier"}
	codeTrackingUID   = dw.Code{Value: "112040", Scheme: "DCM", Meaning: "Tracking Unique Identifier"}
	codeFinding       = dw.Code{Value: "121071", Scheme: "DCM", Meaning: "Finding"}
	codeFindingSite   = dw.Code{Value: "363698007", Scheme: "SCT", Meaning: "Finding Site"}
	codeSIJ           = dw.Code{Value: "39723000", Scheme: "SCT", Meaning: "Sacroiliac joint"}
	codeLaterality    = dw.Code{Value: "272741003", Scheme: "SCT", Meaning: "Laterality"}
	codeLeft          = dw.Code{Value: "7771000", Scheme: "SCT", Meaning: "Left"}
	codeRight         = dw.Code{Value: "24028007", Scheme: "SCT", Meaning: "Right"}
	codeBilateral     = dw.Code{Value: "51440002", Scheme: "SCT", Meaning: "Right and left"}
	codeAlgorithmName = dw.Code{Value: "111001", Scheme: "DCM", Meaning: "Algorithm Name"}
	codeAlgorithmVer  = dw.Code{Value: "111003", Scheme: "DCM", Meaning: "Algorithm Version"}
	codeRefSegment    = dw.Code{Value: "121191", Scheme: "DCM", Meaning: "Referenced Segment"}
	codeSourceSeries  = dw.Code{Value: "121232", Scheme: "DCM", Meaning: "Source series for segmentation"}
	codeProbability   = dw.Code{Value: "{probability}", Scheme: "UCUM", Meaning: "probability"}
	codeNoUnits       = dw.Code{Value: "1", Scheme: "UCUM", Meaning: "no units"}

	codePredicted    = dw.Code{Value: "PREDRESP", Scheme: "99SACRUM", Meaning: "Predicted treatment response"}
	codeResponder    = dw.Code{Value: "RESP", Scheme: "99SACRUM", Meaning: "Predicted responder"}
	codeNonResponder = dw.Code{Value: "NONRESP", Scheme: "99SACRUM", Meaning: "Predicted non-responder"}
	codeProb         = dw.Code{Value: "PROB", Scheme: "99SACRUM", Meaning: "Predicted probability of response"}
	codeDLRScore     = dw.Code{Value: "DLRSCORE", Scheme: "99SACRUM", Meaning: "Deep learning radiomics score"}
	codeThreshold    = dw.Code{Value: "THRESHOLD", Scheme: "99SACRUM", Meaning: "Decision threshold"}
	codeVariant      = dw.Code{Value: "VARIANT", Scheme: "99SACRUM", Meaning: "Model variant"}
	codeDLRC         = dw.Code{Value: "DLRC", Scheme: "99SACRUM", Meaning: "DLR score with clinical data (DLRC)"}
	codeDLROnly      = dw.Code{Value: "DLRONLY", Scheme: "99SACRUM", Meaning: "DLR score only, clinical inputs missing"}
	codeSHAP         = dw.Code{Value: "SHAP", Scheme: "99SACRUM", Meaning: "Feature contribution (SHAP, log-odds)"}
	codeFeatureName  = dw.Code{Value: "FEATURE", Scheme: "99SACRUM", Meaning: "Feature name"}
	codeFeatureValue = dw.Code{Value: "FEATVALUE", Scheme: "99SACRUM", Meaning: "Feature value"}
	codeIntendedUse  = dw.Code{Value: "USE", Scheme: "99SACRUM", Meaning: "Intended use"}
)

// endpointCode is the Finding of an endpoint's measurement group.
func endpointCode(endpoint string) dw.Code {
	return dw.Code{Value: strings.ToUpper(endpoint), Scheme: "99SACRUM", Meaning: endpoint + " response to TNF inhibitor"}
}

// privateScheme declares 99SACRUM (PS3.3 C.12.1.1.4).
func privateScheme() dw.Dataset {
	return dw.Dataset{
		dw.Str(dw.T(0x0008, 0x0102), "SH", "99SACRUM"),
		dw.Str(dw.T(0x0008, 0x0115), "ST", "sacrum local codes"),
		dw.Str(dw.T(0x0008, 0x0116), "ST", "sacrum project"),
	}
}

// content is one SR content item (PS3.3 C.17.3).
type content struct {
	rel, vt  string
	name     dw.Code
	text     string  // TEXT
	uid      string  // UIDREF
	coded    dw.Code // CODE
	num      float64
	units    dw.Code   // NUM
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

func text(rel string, name dw.Code, v string) content {
	return content{rel: rel, vt: "TEXT", name: name, text: v}
}
func uidref(rel string, name dw.Code, v string) content {
	return content{rel: rel, vt: "UIDREF", name: name, uid: v}
}
func codeItem(rel string, name, v dw.Code, children ...content) content {
	return content{rel: rel, vt: "CODE", name: name, coded: v, children: children}
}
func num(rel string, name dw.Code, v float64, units dw.Code, children ...content) content {
	return content{rel: rel, vt: "NUM", name: name, num: v, units: units, children: children}
}
func container(rel string, name dw.Code, children ...content) content {
	return content{rel: rel, vt: "CONTAINER", name: name, children: children}
}

// endw.Code writes the content item's attributes.
func (c content) encode() dw.Dataset {
	var d dw.Dataset
	if c.rel != "" {
		d = append(d, dw.Str(dw.T(0x0040, 0xA010), "CS", c.rel))
	}
	d = append(d, dw.Str(dw.T(0x0040, 0xA040), "CS", c.vt))
	if c.name != (dw.Code{}) { // unnamed IMAGE items of the image library
		d = append(d, c.name.Seq(dw.T(0x0040, 0xA043)))
	}
	switch c.vt {
	case "TEXT":
		d = append(d, dw.Str(dw.T(0x0040, 0xA160), "UT", c.text))
	case "UIDREF":
		d = append(d, dw.Str(dw.T(0x0040, 0xA124), "UI", c.uid))
	case "CODE":
		d = append(d, c.coded.Seq(dw.T(0x0040, 0xA168)))
	case "NUM":
		// NumericValue (DS, ≤16 characters) for every reader, and FloatingPointValue (FD)
		// holding the exact binary value.
		d = append(d, dw.SQ(dw.T(0x0040, 0xA300), dw.Dataset{
			c.units.Seq(dw.T(0x0040, 0x08EA)),
			dw.DS(dw.T(0x0040, 0xA30A), c.num),
			dw.FD(dw.T(0x0040, 0xA161), c.num),
		}))
	case "IMAGE":
		item := dw.Dataset{dw.Str(dw.T(0x0008, 0x1150), "UI", c.ref.class), dw.Str(dw.T(0x0008, 0x1155), "UI", c.ref.instance)}
		if c.ref.frame > 0 {
			item = append(item, dw.Str(dw.T(0x0008, 0x1160), "IS", strconv.Itoa(c.ref.frame)))
		}
		if len(c.ref.segments) > 0 {
			item = append(item, dw.US(dw.T(0x0062, 0x000B), c.ref.segments...))
		}
		d = append(d, dw.SQ(dw.T(0x0008, 0x1199), item))
	case "CONTAINER":
		d = append(d, dw.Str(dw.T(0x0040, 0xA050), "CS", "SEPARATE"))
		if c.template != "" {
			d = append(d, dw.SQ(dw.T(0x0040, 0xA504), dw.Dataset{
				dw.Str(dw.T(0x0008, 0x0105), "CS", "DCMR"),
				dw.Str(dw.T(0x0040, 0xDB00), "CS", c.template),
			}))
		}
	}
	if len(c.children) > 0 {
		items := make([]dw.Dataset, len(c.children))
		for i, ch := range c.children {
			items[i] = ch.encode()
		}
		d = append(d, dw.SQ(dw.T(0x0040, 0xA730), items...))
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
func buildSR(r *Result, u uidSet, objs Objects) (dw.Dataset, error) {
	srClass, err := r.Options.SRClass.sopClass()
	if err != nil {
		return nil, err
	}
	srNumber, _, _ := r.Options.seriesNumbers()
	d := commonModules(r, srClass, u.srSOP, u.srSeries, "SR", "sacrum TNFi response prediction SR (research use only)", srNumber)
	d = append(d,
		dw.SQ(dw.T(0x0008, 0x0110), privateScheme()),
		dw.SQ(dw.T(0x0008, 0x1111)), // Referenced Performed Procedure Step Sequence (type 2, empty)
		dw.Str(dw.T(0x0040, 0xA491), "CS", "COMPLETE"),
		dw.Str(dw.T(0x0040, 0xA493), "CS", "UNVERIFIED"),
		dw.SQ(dw.T(0x0040, 0xA372), codeMRSIJ.Item()),
	)
	// Evidence: the source images and the SEG the content tree references.
	evidence := []seriesInstances{seriesOf(r.Source.STIR)}
	if len(r.Source.T1.Instances) > 0 {
		evidence = append(evidence, seriesOf(r.Source.T1))
	}
	evidence = append(evidence, seriesInstances{objs.SEG.SeriesInstanceUID, [][2]string{{objs.SEG.SOPClassUID, objs.SEG.SOPInstanceUID}}})
	d = append(d, hierarchicalRef(dw.T(0x0040, 0xA375), r.Source.StudyInstanceUID, evidence))
	if p := r.Predecessor; p != nil {
		d = append(d, hierarchicalRef(dw.T(0x0040, 0xA360), r.Source.StudyInstanceUID,
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
func hierarchicalRef(t dw.Tag, study string, series []seriesInstances) dw.Element {
	items := make([]dw.Dataset, len(series))
	for i, s := range series {
		sops := make([]dw.Dataset, len(s.instances))
		for j, in := range s.instances {
			sops[j] = dw.Dataset{dw.Str(dw.T(0x0008, 0x1150), "UI", in[0]), dw.Str(dw.T(0x0008, 0x1155), "UI", in[1])}
		}
		items[i] = dw.Dataset{dw.Str(dw.T(0x0020, 0x000E), "UI", s.series), dw.SQ(dw.T(0x0008, 0x1199), sops...)}
	}
	return dw.SQ(t, dw.Dataset{dw.Str(dw.T(0x0020, 0x000D), "UI", study), dw.SQ(dw.T(0x0008, 0x1115), items...)})
}
