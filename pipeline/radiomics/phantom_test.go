package radiomics

import (
	"bufio"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// ibsiRow is one row of the IBSI digital phantom reference table.
type ibsiRow struct {
	tag       string
	value     float64
	tolerance float64
	hasValue  bool
}

func readIBSIReference(t *testing.T, path string) []ibsiRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []ibsiRow
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 0 || line == "" {
			continue
		}
		p := strings.Split(line, ";")
		if len(p) != 3 {
			t.Fatalf("%s line %d: %q: want value;tolerance;tag", path, n+1, line)
		}
		r := ibsiRow{tag: p[2]}
		if p[0] != "" {
			if r.value, err = strconv.ParseFloat(p[0], 64); err != nil {
				t.Fatalf("%s line %d: %v", path, n+1, err)
			}
			if r.tolerance, err = strconv.ParseFloat(p[1], 64); err != nil {
				t.Fatalf("%s line %d: %v", path, n+1, err)
			}
			r.hasValue = true
		}
		rows = append(rows, r)
	}
	return rows
}

// sigFig rounds x to n significant figures.
func sigFig(x float64, n int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// matchesIBSI applies the acceptance rule: morphology within the tolerance, everything else equal
// to the reference at 3 significant figures.
func matchesIBSI(r ibsiRow, got float64) bool {
	if math.IsNaN(got) {
		return false
	}
	if strings.HasPrefix(r.tag, "morph_") {
		return math.Abs(got-r.value) <= r.tolerance+1e-12
	}
	if r.value == 0 {
		return math.Abs(got) < 5e-4
	}
	return math.Abs(sigFig(got, 3)-r.value) <= 1e-9*math.Abs(r.value)
}

// baseFeature strips the IBSI aggregation suffix from a tag.
func baseFeature(tag string) string {
	for _, s := range []string{"_2D_avg", "_2D_comb", "_2_5D_avg", "_2_5D_comb", "_3D_avg", "_3D_comb", "_2D", "_2_5D", "_3D"} {
		if strings.HasSuffix(tag, s) {
			return strings.TrimSuffix(tag, s)
		}
	}
	return tag
}

// phantomResult extracts the IBSI phantom with params/ibsi-phantom.yaml.
func phantomResult(t testing.TB) *Result {
	img, err := image.ReadNRRDVolume("testdata/ibsi/phantom_image.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	mask, err := image.ReadNRRDLabels("testdata/ibsi/phantom_mask.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSettings("params/ibsi-phantom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Extract(img, mask, 0, s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestIBSIPhantom is acceptance 1: every reference row with a value is reproduced.
func TestIBSIPhantom(t *testing.T) {
	rows := readIBSIReference(t, "testdata/ibsi/ibsi_1_dig_phantom_reference_values.csv")
	res := phantomResult(t)
	got := map[string]Value{}
	for _, v := range res.Features {
		got[v.Name(NamingIBSI)] = v
	}
	type count struct{ rows, ok int }
	families := map[string]*count{}
	var order []string
	featureOK := map[string]bool{}
	total, passed := 0, 0
	for _, r := range rows {
		if !r.hasValue {
			continue
		}
		fam := r.tag[:strings.Index(r.tag, "_")]
		if families[fam] == nil {
			families[fam] = &count{}
			order = append(order, fam)
		}
		c := families[fam]
		c.rows++
		total++
		base := baseFeature(r.tag)
		if _, seen := featureOK[base]; !seen {
			featureOK[base] = true
		}
		v, ok := got[r.tag]
		switch {
		case !ok:
			t.Errorf("%s: not computed (reference %g)", r.tag, r.value)
			featureOK[base] = false
		case !matchesIBSI(r, v.Value):
			t.Errorf("%s = %.6g, reference %g (tolerance %g) %s", r.tag, v.Value, r.value, r.tolerance, v.Reason)
			featureOK[base] = false
		default:
			c.ok++
			passed++
		}
	}
	nf := 0
	for _, ok := range featureOK {
		if ok {
			nf++
		}
	}
	var lines []string
	for _, f := range order {
		lines = append(lines, f+" "+strconv.Itoa(families[f].ok)+"/"+strconv.Itoa(families[f].rows))
	}
	sort.Strings(lines)
	t.Logf("IBSI phantom: %d/%d rows, %d/%d features (%s)", passed, total, nf, len(featureOK), strings.Join(lines, ", "))
	if total != 482 || len(featureOK) != 169 {
		t.Errorf("reference table has %d rows and %d features with values, want 482 and 169", total, len(featureOK))
	}
}

// TestPhantomEnclosingShapes checks the morphology features the IBSI table leaves without a value
// against what must hold: the oriented minimum bounding box is no larger than the axis-aligned one,
// every density is positive, and the minimum-volume enclosing ellipsoid encloses the convex hull.
func TestPhantomEnclosingShapes(t *testing.T) {
	res := phantomResult(t)
	get := func(tag string) float64 {
		v, ok := res.Lookup(NamingIBSI, tag)
		if !ok || math.IsNaN(v.Value) {
			t.Fatalf("%s missing or undefined (%s)", tag, v.Reason)
		}
		return v.Value
	}
	if ombb, aabb := get("morph_vol_dens_ombb"), get("morph_vol_dens_aabb"); ombb < aabb-1e-12 || ombb <= 0 {
		t.Errorf("vol_dens_ombb %v < vol_dens_aabb %v: the oriented box is larger than the axis-aligned one", ombb, aabb)
	}
	if mvee, hull := get("morph_vol_dens_mvee"), get("morph_vol_dens_conv_hull"); !(mvee > 0 && mvee < hull) {
		t.Errorf("vol_dens_mvee %v, vol_dens_conv_hull %v: the enclosing ellipsoid must be larger than the hull", mvee, hull)
	}
	if a := get("morph_area_dens_mvee"); !(a > 0) {
		t.Errorf("area_dens_mvee %v", a)
	}
}
