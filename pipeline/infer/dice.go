package infer

import "github.com/sacrum-dev/sacrum/pipeline/image"

// Dice is the Dice similarity coefficient 2|A∩B|/(|A|+|B|) of label l in two label maps on the same grid
// (1 when neither has the label).
func Dice(a, b *image.Labels, l uint8) float64 {
	var inter, na, nb int
	for p := range a.Data {
		x, y := a.Data[p] == l, b.Data[p] == l
		if x {
			na++
		}
		if y {
			nb++
		}
		if x && y {
			inter++
		}
	}
	if na+nb == 0 {
		return 1
	}
	return 2 * float64(inter) / float64(na+nb)
}
