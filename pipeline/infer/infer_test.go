package infer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// The shipped models (acceptance 2 compares them with their committed reference tensors).
var shipped = []string{"../../models/seg-sij-unet/model.yaml", "../../models/deep-encoder/model.yaml"}

// openRuntime opens ONNX Runtime the way the node does; tests fail (not skip) without it.
func openRuntime(t testing.TB) *Runtime {
	t.Helper()
	rt, err := OpenDefault("")
	if err != nil {
		t.Fatalf("%v\n(`make setup` runs scripts/setup.sh, which fetches the ONNX Runtime library; or set $%s)", err, LibraryEnv)
	}
	return rt
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// TestReferenceTensors is acceptance 2 of issue 6: ONNX Runtime from Go reproduces the PyTorch outputs
// committed by the training scripts to 1e-4.
func TestReferenceTensors(t *testing.T) {
	rt := openRuntime(t)
	for _, path := range shipped {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			m, err := LoadFile(rt, path, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ref := filepath.Join(filepath.Dir(path), "reference")
			var shapes struct{ Input, Output []int64 }
			b, err := os.ReadFile(filepath.Join(ref, "shapes.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &shapes); err != nil {
				t.Fatal(err)
			}
			in, want := readF32(t, filepath.Join(ref, "input.f32")), readF32(t, filepath.Join(ref, "output.f32"))
			got, shape, err := m.Run(context.Background(), in, int(shapes.Input[0]))
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range shapes.Output {
				if shape[i] != d {
					t.Fatalf("output shape %v, reference %v", shape, shapes.Output)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d outputs, reference has %d", len(got), len(want))
			}
			maxDiff := 0.0
			for i := range got {
				maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-want[i])))
			}
			if maxDiff > 1e-4 {
				t.Fatalf("max |ORT − PyTorch| = %g > 1e-4", maxDiff)
			}
			t.Logf("%d values, max |ORT − PyTorch| = %.2g", len(got), maxDiff)
		})
	}
}

// copyManifest writes a modified copy of a shipped manifest (and optionally of its ONNX file) to a temp dir.
func copyManifest(t *testing.T, src string, edit func(string) string, copyONNX bool) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if copyONNX {
		onnx, err := os.ReadFile(filepath.Join(filepath.Dir(src), "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "model.onnx"), onnx, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		abs, _ := filepath.Abs(filepath.Join(filepath.Dir(src), "model.onnx"))
		text = strings.Replace(text, "onnx: model.onnx", "onnx: "+abs, 1)
	}
	p := filepath.Join(dir, "model.yaml")
	if err := os.WriteFile(p, []byte(edit(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateErrors is acceptance 4 (models): every defect gives a clear error naming it, never a crash.
func TestValidateErrors(t *testing.T) {
	rt := openRuntime(t)
	seg := shipped[0]
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("manifest has no %q", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	corrupt := func(dir string) {
		p := filepath.Join(dir, "model.onnx")
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0xff
		os.WriteFile(p, b, 0o644)
	}
	tests := []struct {
		name    string
		edit    func(string) string
		copy    bool
		mangle  func(dir string)
		wantErr string
	}{
		{"wrong hash", func(s string) string {
			i := strings.Index(s, "sha256: ") + len("sha256: ")
			return s[:i] + strings.Repeat("0", 64) + s[i+64:]
		}, false, nil, "the manifest says 0000"},
		{"modified file", func(s string) string { return s }, true, corrupt, "wrong or modified file"},
		{"wrong patch size", replace("patch: [128, 128]", "patch: [96, 96]"), false, nil, `input "image" has shape [-1 2 128 128], the manifest implies [-1 2 96 96]`},
		{"wrong channel count", replace("channels: [stir, t1]", "channels: [stir]"), false, nil, "the manifest implies [-1 1 128 128]"},
		{"wrong input name", replace("name: image", "name: img"), false, nil, `no input tensor "img"`},
		{"wrong output classes", replace("labels: [0, 1, 2]", "labels: [0, 1]"), false, nil, "output \"logits\" has shape"},
		{"missing file", replace("onnx: model.onnx", "onnx: absent.onnx"), true, nil, "absent.onnx: no such file"},
		{"unknown key", replace("task:", "tsk: x\ntask:"), false, nil, "field tsk not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := copyManifest(t, seg, tc.edit, tc.copy)
			if tc.mangle != nil {
				tc.mangle(filepath.Dir(p))
			}
			_, err := LoadFile(rt, p, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestOpenMissingLibrary(t *testing.T) {
	for _, p := range []string{"/nonexistent/libonnxruntime.so.1", t.TempDir()} {
		if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("Open(%s) error %v, want not found", p, err)
		}
	}
	if _, err := FindLibrary("/nonexistent/lib.so"); err == nil || !strings.Contains(err.Error(), "pipeline.onnxruntime_library") {
		t.Errorf("FindLibrary error %v, want it to name the config key", err)
	}
	t.Setenv(LibraryEnv, "/nonexistent/env.so")
	if _, err := FindLibrary(""); err == nil || !strings.Contains(err.Error(), "$"+LibraryEnv) {
		t.Errorf("FindLibrary error %v, want it to name $%s", err, LibraryEnv)
	}
}

func TestKeepLargestComponent(t *testing.T) {
	tests := []struct {
		name  string
		rows  []string // one slice; digits are labels
		want  []string
		label uint8
	}{
		{"two blobs", []string{"11.1", "11..", "...1"}, []string{"11..", "11..", "...."}, 1},
		{"diagonal is not connected", []string{"1...", ".11.", "...."}, []string{"....", ".11.", "...."}, 1},
		{"other labels untouched", []string{"12.2", "1..2", "...."}, []string{"12.2", "1..2", "...."}, 1},
		{"label 2", []string{"22.2", "2...", "...2"}, []string{"22..", "2...", "...."}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := image.NewGrid([3]int{len(tc.rows[0]), len(tc.rows), 1}, [3]float64{1, 1, 1})
			m := image.NewLabels(g)
			for j, r := range tc.rows {
				for i, c := range r {
					if c != '.' {
						m.Data[g.Index(i, j, 0)] = uint8(c - '0')
					}
				}
			}
			KeepLargestComponent(m, tc.label)
			for j, r := range tc.want {
				for i, c := range r {
					want := uint8(0)
					if c != '.' {
						want = uint8(c - '0')
					}
					if got := m.Data[g.Index(i, j, 0)]; got != want {
						t.Fatalf("(%d,%d) = %d, want %d", i, j, got, want)
					}
				}
			}
		})
	}
}

// TestPrepareGeometry checks the in-plane mapping: with normalisation off, the patch centre samples the image
// centre, and one patch pixel spans SpacingMM.
func TestPrepareGeometry(t *testing.T) {
	g := image.NewGrid([3]int{100, 80, 2}, [3]float64{0.9, 0.9, 4})
	v := image.NewVolume(g)
	for k := 0; k < 2; k++ {
		for j := 0; j < 80; j++ {
			for i := 0; i < 100; i++ {
				v.Set(i, j, k, float64(i)*0.9+1000*float64(j)*0.9) // x mm + 1000·y mm
			}
		}
	}
	spec := InputSpec{Name: "image", Layout: "NCHW", Channels: []string{"stir"}, SpacingMM: [2]float64{1.8, 1.8}, Patch: [2]int{32, 48}, Normalisation: "none"}
	x, _, err := spec.Prepare(Inputs{"stir": v})
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 2*32*48 {
		t.Fatalf("%d values, want %d", len(x), 2*32*48)
	}
	// Patch pixel (px, py) is at voxel ((px−23.5)·2 + 49.5, (py−15.5)·2 + 39.5).
	for _, p := range [][2]int{{0, 0}, {23, 15}, {47, 31}, {10, 20}} {
		i, j := (float64(p[0])-23.5)*2+49.5, (float64(p[1])-15.5)*2+39.5
		want := i*0.9 + 1000*j*0.9
		if got := float64(x[32*48+p[1]*48+p[0]]); math.Abs(got-want) > 0.05 {
			t.Errorf("patch (%d,%d) = %g, want %g", p[0], p[1], got, want)
		}
	}
	if _, _, err := spec.Prepare(Inputs{"t1": v}); err == nil || !strings.Contains(err.Error(), "needs a stir series") {
		t.Errorf("missing channel error %v", err)
	}
}

// TestFeaturesAndCAM checks pooling and the heat map: the mean of Σ w_k·A_k over a region equals Σ w_k times
// the pooled features (linearity), and the map is zero outside the region.
func TestFeaturesAndCAM(t *testing.T) {
	rt := openRuntime(t)
	m, err := LoadFile(rt, shipped[1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	g := image.Grid{Size: [3]int{96, 80, 4}, Spacing: [3]float64{0.9, 0.9, 4}, Direction: [9]float64{1, 0, 0, 0, 0, -1, 0, 1, 0}}
	stir, t1 := image.NewVolume(g), image.NewVolume(g)
	for p := range stir.Data {
		stir.Data[p] = float64((p*37)%101) + 50*math.Sin(float64(p)/300)
		t1.Data[p] = float64((p*13)%53) + 20
	}
	mask := image.NewLabels(g)
	for k := 1; k < 3; k++ {
		for j := 30; j < 50; j++ {
			for i := 20; i < 35; i++ {
				mask.Data[g.Index(i, j, k)] = 1
				mask.Data[g.Index(i+40, j, k)] = 2
			}
		}
	}
	fm, err := m.FeatureMaps(context.Background(), Inputs{"stir": stir, "t1": t1})
	if err != nil {
		t.Fatal(err)
	}
	feats, err := fm.Features(mask, SIJROIs)
	if err != nil {
		t.Fatal(err)
	}
	if len(feats["left"]) != fm.Channels() || len(fm.Names()) != fm.Channels() || fm.Names()[3] != "deep_encoder_3" {
		t.Fatalf("%d features, names %v", len(feats["left"]), fm.Names())
	}
	// both = voxel-weighted mean of left and right (equal sizes here).
	for _, n := range fm.Names() {
		if d := feats["both"][n] - (feats["left"][n]+feats["right"][n])/2; math.Abs(d) > 1e-9 {
			t.Fatalf("%s: both %g is not the mean of left %g and right %g", n, feats["both"][n], feats["left"][n], feats["right"][n])
		}
	}
	w := make([]float64, fm.Channels())
	var want float64
	for k := range w {
		w[k] = float64(k%5) - 2
		want += w[k] * feats["left"][fm.Names()[k]]
	}
	cam, err := fm.CAM(mask, w, 1)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for p, l := range mask.Data {
		switch {
		case l == 1:
			sum += cam.Data[p]
			n++
		case cam.Data[p] != 0:
			t.Fatalf("CAM is %g outside the region", cam.Data[p])
		}
	}
	if math.Abs(sum/float64(n)-want) > 1e-9 {
		t.Fatalf("mean CAM %g, Σ w_k·feature_k %g", sum/float64(n), want)
	}
	empty := image.NewLabels(g)
	if _, err := fm.Features(empty, SIJROIs); err == nil || !strings.Contains(err.Error(), "ROI left") {
		t.Fatalf("empty ROI error %v", err)
	}
}

func TestDice(t *testing.T) {
	g := image.NewGrid([3]int{4, 1, 1}, [3]float64{1, 1, 1})
	a, b := image.NewLabels(g), image.NewLabels(g)
	copy(a.Data, []uint8{1, 1, 2, 0})
	copy(b.Data, []uint8{1, 2, 2, 2})
	for _, tc := range []struct {
		l    uint8
		want float64
	}{{1, 2.0 / 3}, {2, 2.0 / 4}, {3, 1}} {
		if got := Dice(a, b, tc.l); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Dice label %d = %g, want %g", tc.l, got, tc.want)
		}
	}
}

// TestConcurrentRuns: one session serves several goroutines at once (the node runs studies in parallel),
// each getting the reference output.
func TestConcurrentRuns(t *testing.T) {
	rt := openRuntime(t)
	m, err := LoadFile(rt, shipped[1], Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ref := filepath.Join(filepath.Dir(shipped[1]), "reference")
	in, want := readF32(t, filepath.Join(ref, "input.f32")), readF32(t, filepath.Join(ref, "output.f32"))
	n := len(in) / (2 * 128 * 128)
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			got, _, err := m.Run(context.Background(), in, n)
			if err == nil {
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-4 {
						err = fmt.Errorf("value %d: %g, reference %g", i, got[i], want[i])
						break
					}
				}
			}
			errs <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// A second Open with the same library shares the environment; another path is refused.
	if _, err := Open(rt.Library); err != nil {
		t.Errorf("reopening %s: %v", rt.Library, err)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	os.WriteFile(other, []byte("not a library"), 0o644)
	if _, err := Open(other); err == nil || !strings.Contains(err.Error(), "already initialised") {
		t.Errorf("Open(other library) error %v, want already initialised", err)
	}
}
