package radiomics

import (
	"testing"

	"github.com/sacrum-dev/sacrum/pipeline/image"
)

// FuzzExtract builds small volumes and masks from the input and runs every family in both
// conventions: any input must give features or an error, never a panic.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{3, 3, 3, 0xff, 0x0f, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{2, 5, 1, 0xaa, 0x55, 0, 0, 200, 100})
	f.Add([]byte{6, 2, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	pyr := DefaultSettings()
	pyr.FeatureClasses["shape2D"] = nil
	ibsi, err := ParseSettings([]byte("setting: {binCount: 4, ibsi: {}}"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		size := [3]int{int(b[0])%6 + 1, int(b[1])%6 + 1, int(b[2])%5 + 1}
		g := image.NewGrid(size, [3]float64{1, 1.5, 2})
		v := image.NewVolume(g)
		m := image.NewLabels(g)
		body := b[3:]
		for i := range v.Data {
			x := body[i%len(body)]
			v.Data[i] = float64(x)
			if body[(i*7+3)%len(body)]&(1<<(i%8)) != 0 {
				m.Data[i] = 1
			}
		}
		for _, s := range []Settings{pyr, ibsi} {
			s.Force2D = size[2] == 1
			_, _ = Extract(v, m, 1, s)
		}
	})
}
