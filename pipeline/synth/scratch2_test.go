package synth

import (
	"fmt"
	goimage "image"
	"image/color"
	"image/png"
	"os"
	"testing"
)

func TestScratchPNG(t *testing.T) {
	dir := os.Getenv("SCRATCHPNG")
	if dir == "" {
		t.Skip()
	}
	for _, idx := range []int{0, 1, 2, 3} {
		st, _ := GeneratePatient(1, idx, ImageOptions{})
		m := st.Grid.Size[0]
		for _, k := range []int{4, 10, 15} {
			img := goimage.NewRGBA(goimage.Rect(0, 0, 3*m, m))
			for j := 0; j < m; j++ {
				for i := 0; i < m; i++ {
					id := i + m*(j+m*k)
					a := uint8(clamp(float64(st.T1[id])/4, 0, 255))
					b := uint8(clamp(float64(st.STIR[id])/3, 0, 255))
					img.Set(i, j, color.RGBA{a, a, a, 255})
					img.Set(i+m, j, color.RGBA{b, b, b, 255})
					l := st.Reader1.Data[id]
					c := color.RGBA{b, b, b, 255}
					if l == 1 {
						c.R = 255
					} else if l == 2 {
						c.G = 255
					}
					img.Set(i+2*m, j, c)
				}
			}
			f, _ := os.Create(fmt.Sprintf("%s/p%d_k%d.png", dir, idx, k))
			png.Encode(f, img)
			f.Close()
		}
		t.Logf("p%d oedema L %.2f R %.2f tex %.2f fat %.2f ero %.2f scl %.2f", idx, st.Record.Latent.OedemaLeft, st.Record.Latent.OedemaRight, st.Record.Latent.Texture, st.Record.Latent.FatMetaplasia, st.Record.Latent.Erosion, st.Record.Latent.Sclerosis)
	}
}
