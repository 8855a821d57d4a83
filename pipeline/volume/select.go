package volume

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Rule says how to recognise one sequence. Every criterion that is set must hold; an empty criterion accepts
// anything. The YAML keys are those of config.yaml's pipeline.series_selection.stir / .t1 sections.
type Rule struct {
	// Description: regular expressions (RE2, case-insensitive); one must match SeriesDescription or ProtocolName.
	Description []string `yaml:"description" json:"description,omitempty"`
	// Exclude: regular expressions that reject a series when they match SeriesDescription or ProtocolName.
	Exclude []string `yaml:"exclude" json:"exclude,omitempty"`
	// ScanningSequence: (0018,0020) must contain at least one of these (SE, IR, GR, EP, RM).
	ScanningSequence []string `yaml:"scanning_sequence" json:"scanning_sequence,omitempty"`
	// ExcludeScanningSequence: (0018,0020) must contain none of these (e.g. IR for T1).
	ExcludeScanningSequence []string `yaml:"exclude_scanning_sequence" json:"exclude_scanning_sequence,omitempty"`
	// InversionTime: [min, max] ms for (0018,0082); zero values mean no bound.
	InversionTime [2]float64 `yaml:"inversion_time_ms" json:"inversion_time_ms,omitzero"`
	// Orientation: accepted slice orientations (axial, coronal, sagittal), oblique within MaxObliqueDeg included.
	Orientation []string `yaml:"orientation" json:"orientation,omitempty"`
	// MaxObliqueDeg: largest angle between the slice normal and the named orientation's axis (default 45).
	MaxObliqueDeg float64 `yaml:"max_oblique_deg" json:"max_oblique_deg,omitempty"`
}

// SelectionConfig is config.yaml's pipeline.series_selection: which series are the STIR and the T1.
type SelectionConfig struct {
	STIR Rule `yaml:"stir" json:"stir"`
	T1   Rule `yaml:"t1" json:"t1"`
}

// DefaultSelection recognises the usual SIJ protocol (oblique-coronal STIR and T1-weighted TSE) from the common
// vendor names (Siemens TIRM, GE/Philips STIR; T1 TSE/FSE/SE).
func DefaultSelection() SelectionConfig {
	return SelectionConfig{
		STIR: Rule{
			Description:      []string{`stir`, `tirm`, `(^|[^a-z0-9])ir([^a-z0-9]|$)`},
			ScanningSequence: []string{"IR"},
			InversionTime:    [2]float64{80, 300},
			Orientation:      []string{"coronal"},
			MaxObliqueDeg:    45,
		},
		T1: Rule{
			Description:             []string{`t1`},
			Exclude:                 []string{`stir`, `tirm`, `fat.?sat`, `(^|[^a-z0-9])fs([^a-z0-9]|$)`, `post`, `\+c([^a-z0-9]|$)`, `(^|[^a-z0-9])gd([^a-z0-9]|$)`, `dixon`},
			ScanningSequence:        []string{"SE", "GR"},
			ExcludeScanningSequence: []string{"IR"},
			Orientation:             []string{"coronal"},
			MaxObliqueDeg:           45,
		},
	}
}

// Validate compiles the regular expressions and checks the values.
func (c SelectionConfig) Validate() error {
	for name, r := range map[string]Rule{"stir": c.STIR, "t1": c.T1} {
		if _, err := r.compile(); err != nil {
			return fmt.Errorf("series_selection.%s: %w", name, err)
		}
		for _, o := range r.Orientation {
			if _, ok := axisOf[strings.ToLower(o)]; !ok {
				return fmt.Errorf("series_selection.%s.orientation: %q is not axial, coronal or sagittal", name, o)
			}
		}
		if r.InversionTime[1] != 0 && r.InversionTime[1] < r.InversionTime[0] {
			return fmt.Errorf("series_selection.%s.inversion_time_ms: max %g < min %g", name, r.InversionTime[1], r.InversionTime[0])
		}
	}
	return nil
}

type compiledRule struct {
	Rule
	include, exclude []*regexp.Regexp
}

func (r Rule) compile() (*compiledRule, error) {
	c := &compiledRule{Rule: r}
	for _, lists := range []struct {
		src []string
		dst *[]*regexp.Regexp
	}{{r.Description, &c.include}, {r.Exclude, &c.exclude}} {
		for _, s := range lists.src {
			re, err := regexp.Compile("(?i)" + s)
			if err != nil {
				return nil, fmt.Errorf("regular expression %q: %w", s, err)
			}
			*lists.dst = append(*lists.dst, re)
		}
	}
	return c, nil
}

// match returns "" when the series satisfies the rule, else the first reason it does not.
func (r *compiledRule) match(s *Series) string {
	text := s.Description + "\n" + s.Protocol
	if len(r.include) > 0 && !slices.ContainsFunc(r.include, func(re *regexp.Regexp) bool { return re.MatchString(text) }) {
		return fmt.Sprintf("description %q / protocol %q match none of %q", s.Description, s.Protocol, r.Description)
	}
	for _, re := range r.exclude {
		if re.MatchString(text) {
			return fmt.Sprintf("description %q / protocol %q match the exclusion %q", s.Description, s.Protocol, re.String()[4:])
		}
	}
	if len(r.ScanningSequence) > 0 && !slices.ContainsFunc(s.ScanningSequence, func(x string) bool { return containsFold(r.ScanningSequence, x) }) {
		return fmt.Sprintf("ScanningSequence %q contains none of %q", s.ScanningSequence, r.ScanningSequence)
	}
	for _, x := range s.ScanningSequence {
		if containsFold(r.ExcludeScanningSequence, x) {
			return fmt.Sprintf("ScanningSequence %q contains %s", s.ScanningSequence, x)
		}
	}
	if lo, hi := r.InversionTime[0], r.InversionTime[1]; lo > 0 || hi > 0 {
		ti := s.InversionTime
		if ti < lo || (hi > 0 && ti > hi) {
			return fmt.Sprintf("InversionTime %g ms outside [%g, %g] ms", ti, lo, hi)
		}
	}
	if len(r.Orientation) > 0 {
		o, angle, ok := s.Orientation()
		if !ok {
			return "no image orientation"
		}
		max := r.MaxObliqueDeg
		if max == 0 {
			max = 45
		}
		if !containsFold(r.Orientation, o) || angle > max {
			return fmt.Sprintf("orientation %s (%.0f° oblique) is not %s", o, angle, strings.Join(r.Orientation, " or "))
		}
	}
	return ""
}

func containsFold(list []string, x string) bool {
	return slices.ContainsFunc(list, func(y string) bool { return strings.EqualFold(x, y) })
}

// axisOf maps an orientation name to the patient axis its slice normal is closest to.
var axisOf = map[string]int{"sagittal": 0, "coronal": 1, "axial": 2}

// Orientation names the series' slice orientation (axial, coronal, sagittal) by the patient axis closest to the
// slice normal, and the angle in degrees between them (0 for a true orthogonal plane).
func (s *Series) Orientation() (name string, obliqueDeg float64, ok bool) {
	if len(s.Instances) == 0 || len(s.Instances[0].Frames) == 0 {
		return "", 0, false
	}
	o := s.Instances[0].Frames[0].Orientation
	n := cross(o[:3], o[3:])
	best := 0
	for a := 1; a < 3; a++ {
		if math.Abs(n[a]) > math.Abs(n[best]) {
			best = a
		}
	}
	names := [3]string{"sagittal", "coronal", "axial"}
	c := math.Min(1, math.Abs(n[best])/norm(n[:]))
	return names[best], math.Acos(c) * 180 / math.Pi, true
}

// Decision says what series selection made of one series.
type Decision struct {
	SeriesUID   string `json:"series_uid"`
	Number      int    `json:"series_number"`
	Description string `json:"series_description"`
	Frames      int    `json:"frames"`
	Role        string `json:"role,omitempty"` // "stir", "t1" or "segmentation" when chosen
	Chosen      bool   `json:"chosen"`
	Reason      string `json:"reason"`
}

// Selection is the outcome: the chosen series (T1 may be nil) and a decision for every series.
type Selection struct {
	STIR      *Series
	T1        *Series
	Segment   *Series // a DICOM SEG referencing the STIR series ("provided segmentation"), or nil
	Decisions []Decision
}

// Select chooses the STIR and T1 series of a study by the rules. Among several matching series it prefers the
// one with more frames, then the higher series number (a repeat is usually the better one). A study without a
// STIR series is an error whose message lists why each series was rejected; a missing T1 is not (the models
// say which sequences they need).
func Select(st *Study, cfg SelectionConfig) (*Selection, error) {
	stir, err := cfg.STIR.compile()
	if err != nil {
		return nil, fmt.Errorf("series_selection.stir: %w", err)
	}
	t1, err := cfg.T1.compile()
	if err != nil {
		return nil, fmt.Errorf("series_selection.t1: %w", err)
	}
	sel := &Selection{}
	why := map[*Series][]string{}
	var stirC, t1C []*Series
	for _, s := range st.Series {
		if s.IsSegmentation() {
			continue
		}
		if s.Modality != "" && s.Modality != "MR" {
			why[s] = append(why[s], "modality "+s.Modality+" is not MR")
			continue
		}
		if r := stir.match(s); r == "" {
			stirC = append(stirC, s)
		} else {
			why[s] = append(why[s], "not STIR: "+r)
		}
		if r := t1.match(s); r == "" {
			t1C = append(t1C, s)
		} else {
			why[s] = append(why[s], "not T1: "+r)
		}
	}
	sel.STIR = best(stirC)
	t1C = slices.DeleteFunc(t1C, func(s *Series) bool { return s == sel.STIR })
	sel.T1 = best(t1C)
	for _, s := range st.Series {
		if s.IsSegmentation() && sel.STIR != nil && sel.Segment == nil && slices.Contains(s.Instances[0].ReferencedSeries, sel.STIR.UID) {
			sel.Segment = s
		}
	}
	for _, s := range st.Series {
		d := Decision{SeriesUID: s.UID, Number: s.Number, Description: s.Description}
		for _, in := range s.Instances {
			d.Frames += len(in.Frames)
		}
		switch {
		case s == sel.STIR:
			d.Role, d.Chosen, d.Reason = "stir", true, "STIR: "+describe(s)+alternatives(stirC, s)
		case s == sel.T1:
			d.Role, d.Chosen, d.Reason = "t1", true, "T1: "+describe(s)+alternatives(t1C, s)
		case s == sel.Segment:
			d.Role, d.Chosen, d.Reason = "segmentation", true, "provided segmentation: DICOM SEG referencing the STIR series"
		case s.IsSegmentation():
			d.Reason = "DICOM SEG that does not reference the chosen STIR series"
		case slices.Contains(stirC, s):
			d.Reason = "matches STIR but another STIR series was preferred (more frames or later series)"
		case slices.Contains(t1C, s):
			d.Reason = "matches T1 but another T1 series was preferred (more frames or later series)"
		default:
			d.Reason = strings.Join(why[s], "; ")
		}
		sel.Decisions = append(sel.Decisions, d)
	}
	if sel.STIR == nil {
		var lines []string
		for _, s := range st.Series {
			if r, ok := why[s]; ok {
				lines = append(lines, fmt.Sprintf("series %d %q: %s", s.Number, s.Description, strings.Join(r, "; ")))
			}
		}
		if len(lines) == 0 {
			return sel, fmt.Errorf("no STIR series: %w", ErrNoSeries)
		}
		return sel, fmt.Errorf("no STIR series in the study (%s)", strings.Join(lines, "; "))
	}
	return sel, nil
}

func frames(s *Series) int {
	n := 0
	for _, in := range s.Instances {
		n += len(in.Frames)
	}
	return n
}

func best(c []*Series) *Series {
	var b *Series
	for _, s := range c {
		if b == nil || frames(s) > frames(b) || (frames(s) == frames(b) && s.Number > b.Number) {
			b = s
		}
	}
	return b
}

func describe(s *Series) string {
	o, angle, _ := s.Orientation()
	txt := fmt.Sprintf("description %q, ScanningSequence %s, %s %.0f° oblique", s.Description, strings.Join(s.ScanningSequence, `\`), o, angle)
	if s.InversionTime > 0 {
		txt += fmt.Sprintf(", TI %g ms", s.InversionTime)
	}
	return txt
}

func alternatives(c []*Series, chosen *Series) string {
	if len(c) < 2 {
		return ""
	}
	return fmt.Sprintf(" (preferred over %d other matching series: more frames or later series)", len(c)-1)
}
