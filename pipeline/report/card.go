package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	dw "github.com/sacrum-dev/sacrum/pipeline/dcmwrite"
)

// Card geometry (pixels).
const (
	cardWidth  = 1024
	cardHeight = 768
	viewSize   = 500 // the key-slice viewport is viewSize×viewSize
)

// Card colours.
var (
	colBackground = color.RGBA{16, 20, 26, 255}
	colPanel      = color.RGBA{28, 34, 43, 255}
	colText       = color.RGBA{232, 236, 241, 255}
	colMuted      = color.RGBA{150, 160, 172, 255}
	colWarning    = color.RGBA{200, 40, 40, 255}
	colResponder  = color.RGBA{46, 160, 90, 255}
	colNonResp    = color.RGBA{110, 118, 130, 255}
	colPositive   = color.RGBA{230, 110, 60, 255} // SHAP towards response
	colNegative   = color.RGBA{70, 140, 230, 255} // SHAP away from response
	colTrack      = color.RGBA{55, 63, 75, 255}
)

// faces are the card's fonts.
type faces struct {
	title, large, body, bold, small font.Face
}

func newFaces() (*faces, error) {
	reg, err := opentype.Parse(liberationsansregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("report: card font: %w", err)
	}
	bold, err := opentype.Parse(liberationsansbold.TTF)
	if err != nil {
		return nil, fmt.Errorf("report: card font: %w", err)
	}
	face := func(f *opentype.Font, size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	var fs faces
	for _, x := range []struct {
		dst  *font.Face
		f    *opentype.Font
		size float64
	}{{&fs.title, bold, 22}, {&fs.large, bold, 34}, {&fs.body, reg, 15}, {&fs.bold, bold, 17}, {&fs.small, reg, 13}} {
		if *x.dst, err = face(x.f, x.size); err != nil {
			return nil, fmt.Errorf("report: card font: %w", err)
		}
	}
	return &fs, nil
}

// drawText draws s with its baseline at (x, y) and returns the x after it.
func drawText(dst draw.Image, f font.Face, x, y int, c color.Color, s string) int {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return d.Dot.X.Round()
}

func textWidth(f font.Face, s string) int { return font.MeasureString(f, s).Round() }

// fitText shortens s with an ellipsis until it is at most w pixels wide.
func fitText(f font.Face, s string, w int) string {
	if textWidth(f, s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && textWidth(f, string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

func fillRect(dst draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// keySlice is the slice with the most ROI voxels (the first of equals).
func keySlice(r *Result) int {
	g := r.Labels.Grid
	n := g.Size[0] * g.Size[1]
	best, bestCount := 0, -1
	for k := 0; k < g.Size[2]; k++ {
		c := 0
		for _, x := range r.Labels.Data[k*n : (k+1)*n] {
			if x != 0 {
				c++
			}
		}
		if c > bestCount {
			best, bestCount = k, c
		}
	}
	return best
}

// RenderCard draws the result card: key STIR slice with ROI outlines and the class-activation
// map, per endpoint the probability, decision and top feature contributions, the model and the
// disclaimer.
func RenderCard(r *Result) (*image.RGBA, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	fs, err := newFaces()
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, cardWidth, cardHeight))
	fillRect(img, img.Bounds(), colBackground)

	// Header and disclaimer banner.
	fillRect(img, image.Rect(0, 0, cardWidth, 48), colPanel)
	warn := "RESEARCH USE ONLY — NOT FOR DIAGNOSTIC USE"
	ww := textWidth(fs.bold, warn) + 24
	drawText(img, fs.title, 20, 32, colText, fitText(fs.title, "sacrum · axSpA: response to TNF inhibitor", cardWidth-60-ww))
	fillRect(img, image.Rect(cardWidth-20-ww, 10, cardWidth-20, 38), colWarning)
	drawText(img, fs.bold, cardWidth-20-ww+12, 30, colText, warn)

	k := keySlice(r)
	view := image.Rect(20, 64, 20+viewSize, 64+viewSize)
	drawSlice(img, view, r, k, fs)

	// Legend under the image.
	y := view.Max.Y + 22
	segs := segments()
	x := view.Min.X
	for _, s := range segs {
		fillRect(img, image.Rect(x, y-11, x+14, y+1), s.colour)
		x = drawText(img, fs.body, x+20, y, colText, s.label) + 24
	}
	y += 24
	if r.Heatmap != nil {
		x = drawText(img, fs.body, view.Min.X, y, colText, "Class-activation map: low ")
		for i := 0; i < 120; i++ {
			fillRect(img, image.Rect(x+i, y-11, x+i+1, y+1), heatColour(float64(i)/119))
		}
		drawText(img, fs.body, x+126, y, colText, "high (inside the ROI)")
		y += 24
	}
	drawText(img, fs.small, view.Min.X, y, colMuted, fmt.Sprintf("Key STIR slice %d of %d (most ROI voxels); series %s",
		k+1, r.Labels.Size[2], fitText(fs.small, r.Source.STIR.SeriesDescription, 200)))
	y += 26
	wrapText(img, fs.small, view.Min.X, y, viewSize, 17, colMuted, "How to read: each probability is the model's estimate "+
		"that the patient reaches the endpoint after TNF-inhibitor treatment; the decision compares it with the threshold "+
		"fixed on the training data. Bars show how much each input moved this patient's prediction (log-odds): "+
		"orange towards response, blue against it.")

	// Endpoint panels on the right.
	px, pw := view.Max.X+24, cardWidth-20-(view.Max.X+24)
	n := len(r.Predictions)
	ph := (cardHeight - 64 - 56 - 12*(n-1)) / n
	for i, p := range r.Predictions {
		top := 64 + i*(ph+12)
		drawPrediction(img, image.Rect(px, top, px+pw, top+ph), p, fs)
	}

	// Footer: model, segmentation, disclaimer.
	fillRect(img, image.Rect(0, cardHeight-44, cardWidth, cardHeight), colPanel)
	seg := "segmentation: " + strings.TrimSpace(r.Model.SegmentationName+" "+r.Model.SegmentationVersion) + " (automatic)"
	if r.Provided {
		seg = "segmentation: provided with the study"
	}
	study := ""
	if d, err := time.Parse("20060102", r.Source.StudyDate); err == nil {
		study = "Study of " + d.Format("2006-01-02") + " · "
	}
	foot := fmt.Sprintf("%sModel %s %s · %s · sacrum %s · made %s", study, r.Model.Name, r.Model.Version, seg,
		r.Node.SoftwareVersion, r.Now.UTC().Format("2006-01-02 15:04 MST"))
	drawText(img, fs.small, 20, cardHeight-26, colMuted, fitText(fs.small, foot, cardWidth-40))
	drawText(img, fs.small, 20, cardHeight-9, colMuted, "Research use only, not for diagnostic use. Probabilities come from a statistical model and are not a diagnosis.")
	return img, nil
}

// drawSlice draws slice k of the STIR volume into view, keeping the physical aspect ratio, with
// the heat map inside the ROI and the ROI outlines.
func drawSlice(dst *image.RGBA, view image.Rectangle, r *Result, k int, fs *faces) {
	fillRect(dst, view, color.Black)
	g := r.Labels.Grid
	nx, ny := g.Size[0], g.Size[1]
	n := nx * ny
	pix := r.STIRVolume.Data[k*n : (k+1)*n]
	lo, hi := percentile(pix, 0.01), percentile(pix, 0.995)
	if hi <= lo {
		hi = lo + 1
	}
	var heat []float64
	heatMax := 0.0
	if r.Heatmap != nil {
		heat = r.Heatmap.Data[k*n : (k+1)*n]
		for i, h := range heat {
			if r.Labels.Data[k*n+i] != 0 && h > heatMax {
				heatMax = h
			}
		}
	}
	w, h := float64(nx)*g.Spacing[0], float64(ny)*g.Spacing[1]
	scale := math.Min(float64(view.Dx())/w, float64(view.Dy())/h)
	dw, dh := int(w*scale), int(h*scale)
	ox, oy := view.Min.X+(view.Dx()-dw)/2, view.Min.Y+(view.Dy()-dh)/2
	labelAt := func(x, y int) uint8 { // display pixel → label (nearest voxel)
		i := int(float64(x) / float64(dw) * float64(nx))
		j := int(float64(y) / float64(dh) * float64(ny))
		return r.Labels.Data[k*n+min(j, ny-1)*nx+min(i, nx-1)]
	}
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			// Bilinear sample at the voxel-centre coordinates of the display pixel.
			fi := (float64(x)+0.5)/float64(dw)*float64(nx) - 0.5
			fj := (float64(y)+0.5)/float64(dh)*float64(ny) - 0.5
			v := bilinear(pix, nx, ny, fi, fj)
			gray := math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
			c := [3]float64{gray, gray, gray}
			l := labelAt(x, y)
			if heat != nil && heatMax > 0 && l != 0 {
				t := math.Max(0, bilinear(heat, nx, ny, fi, fj)/heatMax)
				if t > 0.05 {
					hc := heatColour(math.Min(1, t))
					a := 0.25 + 0.4*math.Min(1, t)
					c[0] = (1-a)*c[0] + a*float64(hc.R)/255
					c[1] = (1-a)*c[1] + a*float64(hc.G)/255
					c[2] = (1-a)*c[2] + a*float64(hc.B)/255
				}
			}
			dst.SetRGBA(ox+x, oy+y, color.RGBA{uint8(c[0]*255 + 0.5), uint8(c[1]*255 + 0.5), uint8(c[2]*255 + 0.5), 255})
		}
	}
	// Outlines: display pixels inside a segment whose 2-pixel neighbourhood leaves it.
	segs := segments()
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			l := labelAt(x, y)
			if l == 0 || int(l) > len(segs) {
				continue
			}
			edge := false
			for _, d := range [][2]int{{-2, 0}, {2, 0}, {0, -2}, {0, 2}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= dw || yy >= dh || labelAt(xx, yy) != l {
					edge = true
					break
				}
			}
			if edge {
				dst.SetRGBA(ox+x, oy+y, segs[l-1].colour)
			}
		}
	}
	// Orientation letters at the edges of the image.
	dir := g.Direction
	row := [3]float64{dir[0], dir[3], dir[6]}
	col := [3]float64{dir[1], dir[4], dir[7]}
	neg := func(v [3]float64) [3]float64 { return [3]float64{-v[0], -v[1], -v[2]} }
	mid := func(s string) int { return textWidth(fs.bold, s) / 2 }
	l, rt, t, b := orientationLabel(neg(row)), orientationLabel(row), orientationLabel(neg(col)), orientationLabel(col)
	drawText(dst, fs.bold, ox+6, oy+dh/2+6, colText, l)
	drawText(dst, fs.bold, ox+dw-6-2*mid(rt), oy+dh/2+6, colText, rt)
	drawText(dst, fs.bold, ox+dw/2-mid(t), oy+20, colText, t)
	drawText(dst, fs.bold, ox+dw/2-mid(b), oy+dh-8, colText, b)
}

// orientationLabel names an LPS direction by its main anatomical components (PS3.3 C.7.6.1.1.1).
func orientationLabel(v [3]float64) string {
	type comp struct {
		mag    float64
		letter string
	}
	letters := [3][2]string{{"L", "R"}, {"P", "A"}, {"H", "F"}}
	var cs []comp
	for a := 0; a < 3; a++ {
		l := letters[a][0]
		if v[a] < 0 {
			l = letters[a][1]
		}
		cs = append(cs, comp{math.Abs(v[a]), l})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].mag > cs[j].mag })
	s := cs[0].letter
	for _, c := range cs[1:] {
		if c.mag > 0.25 {
			s += c.letter
		}
	}
	return s
}

// drawPrediction draws one endpoint's panel.
func drawPrediction(dst *image.RGBA, box image.Rectangle, p Prediction, fs *faces) {
	fillRect(dst, box, colPanel)
	x, y := box.Min.X+16, box.Min.Y+30
	drawText(dst, fs.title, x, y, colText, p.Endpoint)
	verdict, vc := "Predicted non-responder", colNonResp
	if p.Responder {
		verdict, vc = "Predicted responder", colResponder
	}
	vw := textWidth(fs.bold, verdict) + 20
	fillRect(dst, image.Rect(box.Max.X-16-vw, y-21, box.Max.X-16, y+6), vc)
	drawText(dst, fs.bold, box.Max.X-16-vw+10, y-1, colText, verdict)

	y += 44
	xe := drawText(dst, fs.large, x, y, colText, formatProbability(p.Probability))
	drawText(dst, fs.body, xe+10, y, colMuted, fmt.Sprintf("probability of %s response (threshold %.2f)", p.Endpoint, p.Threshold))

	// Probability gauge with the threshold marker.
	y += 14
	gw := box.Dx() - 32
	fillRect(dst, image.Rect(x, y, x+gw, y+10), colTrack)
	fillRect(dst, image.Rect(x, y, x+int(p.Probability*float64(gw)+0.5), y+10), vc)
	tx := x + int(p.Threshold*float64(gw)+0.5)
	fillRect(dst, image.Rect(tx-1, y-4, tx+2, y+14), colText)

	y += 34
	variant := "DLRC model (DLR score + clinical data)"
	if p.Variant != "DLRC" {
		variant = "DLR-only model: clinical inputs were missing"
	}
	drawText(dst, fs.body, x, y, colText, fmt.Sprintf("%s · DLR score %.3f", variant, p.DLRScore))
	y += 26
	drawText(dst, fs.bold, x, y, colText, "Top feature contributions")
	drawText(dst, fs.small, x+textWidth(fs.bold, "Top feature contributions")+8, y, colMuted, "(SHAP, log-odds; orange → response)")
	y += 10
	drawBars(dst, image.Rect(x, y, box.Max.X-16, box.Max.Y-10), p.TopFeatures, fs)
}

// drawBars draws a horizontal bar chart of SHAP values around a zero axis: names on the left,
// values right-aligned on the right.
func drawBars(dst *image.RGBA, box image.Rectangle, fc []Contribution, fs *faces) {
	if len(fc) == 0 {
		drawText(dst, fs.body, box.Min.X, box.Min.Y+20, colMuted, "no feature contributions")
		return
	}
	// Largest contributions first.
	fc = append([]Contribution(nil), fc...)
	sort.SliceStable(fc, func(i, j int) bool { return math.Abs(fc[i].SHAP) > math.Abs(fc[j].SHAP) })
	rowH := 24
	rows := min(len(fc), box.Dy()/rowH)
	maxAbs := 0.0
	for _, c := range fc[:rows] {
		maxAbs = math.Max(maxAbs, math.Abs(c.SHAP))
	}
	if maxAbs == 0 {
		maxAbs = 1
	}
	const nameW, valueW = 196, 56
	chartL, chartR := box.Min.X+nameW, box.Max.X-valueW
	zero := (chartL + chartR) / 2
	half := float64(chartR-chartL) / 2
	fillRect(dst, image.Rect(zero, box.Min.Y+2, zero+1, box.Min.Y+6+rows*rowH), colMuted)
	for i, c := range fc[:rows] {
		y := box.Min.Y + 4 + i*rowH
		drawText(dst, fs.small, box.Min.X, y+16, colText, fitText(fs.small, c.Name, nameW-10))
		l := max(1, int(math.Abs(c.SHAP)/maxAbs*half))
		bar, col := image.Rect(zero+1, y+5, zero+1+l, y+19), colPositive
		if c.SHAP < 0 {
			bar, col = image.Rect(zero-l, y+5, zero, y+19), colNegative
		}
		fillRect(dst, bar, col)
		label := strconv.FormatFloat(c.SHAP, 'f', 2, 64)
		if c.SHAP >= 0 {
			label = "+" + label
		}
		drawText(dst, fs.small, box.Max.X-textWidth(fs.small, label), y+16, colText, label)
	}
}

// formatProbability shows a probability with two decimals, and the bounds beyond them.
func formatProbability(p float64) string {
	switch {
	case p < 0.005:
		return "<0.01"
	case p > 0.995:
		return ">0.99"
	}
	return strconv.FormatFloat(p, 'f', 2, 64)
}

// wrapText draws s wrapped to width w from baseline y and returns the baseline after it.
func wrapText(dst draw.Image, f font.Face, x, y, w, lineH int, c color.Color, s string) int {
	line := ""
	for _, word := range strings.Fields(s) {
		try := strings.TrimSpace(line + " " + word)
		if line != "" && textWidth(f, try) > w {
			drawText(dst, f, x, y, c, line)
			y += lineH
			try = word
		}
		line = try
	}
	if line != "" {
		drawText(dst, f, x, y, c, line)
		y += lineH
	}
	return y
}

// heatColour is a perceptually ordered "hot" colour map: dark red → red → orange → yellow.
func heatColour(t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	r := math.Min(1, 0.35+1.3*t)
	g := math.Max(0, math.Min(1, 1.6*t-0.45))
	b := math.Max(0, math.Min(1, 2.5*t-2.0))
	return color.RGBA{uint8(r * 255), uint8(g * 255), uint8(b * 255), 255}
}

// percentile returns the q-quantile of xs (nearest rank).
func percentile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// bilinear samples a nx×ny slice at fractional (i, j), clamped to the edges.
func bilinear(p []float64, nx, ny int, fi, fj float64) float64 {
	fi = math.Max(0, math.Min(float64(nx-1), fi))
	fj = math.Max(0, math.Min(float64(ny-1), fj))
	i0, j0 := int(fi), int(fj)
	i1, j1 := min(i0+1, nx-1), min(j0+1, ny-1)
	a, b := fi-float64(i0), fj-float64(j0)
	return (1-a)*(1-b)*p[j0*nx+i0] + a*(1-b)*p[j0*nx+i1] + (1-a)*b*p[j1*nx+i0] + a*b*p[j1*nx+i1]
}

// buildCard renders the card and wraps it in a Secondary Capture Image.
func buildCard(r *Result, u uidSet) (dw.Dataset, error) {
	img, err := RenderCard(r)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	pixels := make([]byte, 0, 3*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			pixels = append(pixels, c.R, c.G, c.B)
		}
	}
	_, _, cardNumber := r.Options.seriesNumbers()
	d := commonModules(r, SecondaryCaptureStorage, u.cardSOP, u.cardSeries, "OT", "sacrum result card (research use only)", cardNumber)
	src := sourceFrame(r.Source.STIR.Instances[keySlice(r)]).SourceImageItem()
	d = append(d,
		dw.Str(dw.T(0x0008, 0x0008), "CS", "DERIVED", "SECONDARY"),
		dw.Str(dw.T(0x0008, 0x0064), "CS", "WSD"),
		dw.SQ(dw.T(0x0008, 0x2112), src),
		dw.Str(dw.T(0x0020, 0x0020), "CS"),
		dw.Str(dw.T(0x0020, 0x0062), "CS", "B"),
		dw.Str(dw.T(0x0020, 0x4000), "LT", Disclaimer),
		dw.US(dw.T(0x0028, 0x0006), 0),
		dw.Str(dw.T(0x0028, 0x0301), "CS", "YES"),
		dw.PixelDataBytes(pixels),
	)
	d = append(d, dw.ImagePixel(3, "RGB", b.Dy(), b.Dx(), 8)...)
	return d, nil
}
