package radiomics

import (
	"bufio"
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// phantomROI reads the IBSI digital phantom (5×4×4 voxels, 2 mm): its grey levels 1…6 are used
// directly (NG = 6, no resampling or discretisation) and the mask is both the intensity and the
// morphological mask.
func phantomROI(t testing.TB) *Discretised {
	t.Helper()
	img, err := image.ReadNRRDVolume("testdata/texture/phantom_image.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	mask, err := image.ReadNRRDLabels("testdata/texture/phantom_mask.nrrd")
	if err != nil {
		t.Fatal(err)
	}
	if img.Size != [3]int{5, 4, 4} || mask.Size != img.Size {
		t.Fatalf("phantom sizes %v, %v; want 5×4×4", img.Size, mask.Size)
	}
	d := &Discretised{Size: img.Size, Spacing: img.Spacing, NG: 6, Level: make([]int32, img.Len()), Morph: make([]bool, img.Len())}
	for i, v := range img.Data {
		if mask.Data[i] != 0 {
			d.Level[i] = int32(v)
			d.Morph[i] = true
		}
	}
	return d
}

type referenceRow struct {
	tag   string
	value float64
}

// texturePrefixes are the IBSI tag prefixes of the texture families.
var texturePrefixes = []string{"cm_", "rlm_", "szm_", "dzm_", "ngt_", "ngl_"}

func readReference(t *testing.T, path string) []referenceRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []referenceRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header: reference value;tolerance;tag
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ";")
		if len(parts) != 3 || parts[0] == "" {
			continue
		}
		v, err := strconv.ParseFloat(parts[0], 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		rows = append(rows, referenceRow{tag: parts[2], value: v})
	}
	return rows
}

// equal3SF reports whether got rounds to ref at 3 significant figures (ref is given to 3).
func equal3SF(got, ref float64) bool {
	if ref == 0 {
		return math.Abs(got) < 5e-4
	}
	unit := math.Pow(10, math.Floor(math.Log10(math.Abs(ref)))-2)
	return math.Abs(got-ref) <= 0.5*unit*(1+1e-9)
}

func TestIBSIPhantomTexture(t *testing.T) {
	d := phantomROI(t)
	opt := DefaultTextureOptions()
	opt.IBSI = true
	fs, err := TextureFeatures(context.Background(), d, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Feature{}
	for _, f := range fs {
		if _, dup := got[f.IBSI]; dup {
			t.Errorf("tag %s emitted twice", f.IBSI)
		}
		got[f.IBSI] = f
	}
	rows := readReference(t, "testdata/texture/ibsi_1_dig_phantom_reference_values.csv")
	total, ok := 0, 0
	families := map[string][2]int{}
	for _, r := range rows {
		prefix := ""
		for _, p := range texturePrefixes {
			if strings.HasPrefix(r.tag, p) {
				prefix = p
			}
		}
		if prefix == "" {
			continue
		}
		total++
		fam := families[prefix]
		fam[1]++
		f, found := got[r.tag]
		switch {
		case !found:
			t.Errorf("%s: not computed", r.tag)
		case !equal3SF(f.Value, r.value):
			t.Errorf("%s = %.6g, want %g (3 significant figures) %s", r.tag, f.Value, r.value, f.Reason)
		default:
			ok++
			fam[0]++
		}
		families[prefix] = fam
	}
	for _, p := range texturePrefixes {
		t.Logf("%-5s %d/%d rows", p, families[p][0], families[p][1])
	}
	t.Logf("IBSI digital phantom, texture families: %d/%d rows equal at 3 significant figures", ok, total)
	if total != 408 {
		t.Errorf("reference has %d texture rows, want 408", total)
	}
}
