package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// NIfTI-1 (https://nifti.nimh.nih.gov/nifti-1): a 348-byte header, 4 extension bytes, then voxels.
// NIfTI world coordinates are RAS; sacrum's grids are LPS, so x and y flip sign on the way in and out.

const niftiHeaderSize = 348

// NIfTI-1 datatype codes.
const (
	niftiUint8   = 2
	niftiInt16   = 4
	niftiInt32   = 8
	niftiFloat32 = 16
	niftiFloat64 = 64
	niftiInt8    = 256
	niftiUint16  = 512
)

type niftiHeader struct {
	SizeofHdr    int32
	DataType     [10]byte
	DBName       [18]byte
	Extents      int32
	SessionError int16
	Regular      byte
	DimInfo      byte
	Dim          [8]int16
	IntentP1     float32
	IntentP2     float32
	IntentP3     float32
	IntentCode   int16
	Datatype     int16
	Bitpix       int16
	SliceStart   int16
	Pixdim       [8]float32
	VoxOffset    float32
	SclSlope     float32
	SclInter     float32
	SliceEnd     int16
	SliceCode    byte
	XYZTUnits    byte
	CalMax       float32
	CalMin       float32
	SliceDur     float32
	Toffset      float32
	Glmax        int32
	Glmin        int32
	Descrip      [80]byte
	AuxFile      [24]byte
	QformCode    int16
	SformCode    int16
	QuaternB     float32
	QuaternC     float32
	QuaternD     float32
	QoffsetX     float32
	QoffsetY     float32
	QoffsetZ     float32
	SrowX        [4]float32
	SrowY        [4]float32
	SrowZ        [4]float32
	IntentName   [16]byte
	Magic        [4]byte
}

// ReadNIfTIVolume reads a NIfTI-1 file (.nii or .nii.gz) as a float volume (scl_slope/inter applied).
func ReadNIfTIVolume(path string) (*Volume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := DecodeNIfTI(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ReadNIfTILabels reads a NIfTI-1 label map; voxel values must be integers in 0…255.
func ReadNIfTILabels(path string) (*Labels, error) {
	v, err := ReadNIfTIVolume(path)
	return labelsOf(path, v, err)
}

// ToLabels converts a volume holding integer values 0…255 into a label map.
func (v *Volume) ToLabels() (*Labels, error) {
	m := NewLabels(v.Grid)
	for i, x := range v.Data {
		if x < 0 || x > 255 || x != math.Trunc(x) {
			return nil, fmt.Errorf("label map: voxel %d has value %g, want an integer 0…255", i, x)
		}
		m.Data[i] = uint8(x)
	}
	return m, nil
}

// ToVolume converts a label map to a float volume.
func (m *Labels) ToVolume() *Volume {
	v := NewVolume(m.Grid)
	for i, x := range m.Data {
		v.Data[i] = float64(x)
	}
	return v
}

// DecodeNIfTI reads a NIfTI-1 single file, gzip-compressed or not (detected from the first bytes).
func DecodeNIfTI(r io.Reader) (*Volume, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("nifti: gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	raw := make([]byte, niftiHeaderSize)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, fmt.Errorf("nifti: header: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if int32(binary.LittleEndian.Uint32(raw)) != niftiHeaderSize {
		if int32(binary.BigEndian.Uint32(raw)) != niftiHeaderSize {
			return nil, fmt.Errorf("nifti: sizeof_hdr is not 348: not a NIfTI-1 file")
		}
		order = binary.BigEndian
	}
	var h niftiHeader
	if err := binary.Read(bytes.NewReader(raw), order, &h); err != nil {
		return nil, fmt.Errorf("nifti: header: %w", err)
	}
	if m := string(h.Magic[:3]); m != "n+1" {
		return nil, fmt.Errorf("nifti: magic %q: only single-file NIfTI-1 (n+1) is supported", strings.TrimRight(string(h.Magic[:]), "\x00"))
	}
	nd := int(h.Dim[0])
	if nd < 3 || nd > 7 {
		if nd == 2 {
			return nil, fmt.Errorf("nifti: dim[0]=2: 2D images are not supported, want a 3D volume")
		}
		return nil, fmt.Errorf("nifti: dim[0]=%d: want 3", nd)
	}
	for d := 4; d <= nd; d++ {
		if h.Dim[d] > 1 {
			return nil, fmt.Errorf("nifti: dim[%d]=%d: only single 3D volumes are supported", d, h.Dim[d])
		}
	}
	var g Grid
	for a := 0; a < 3; a++ {
		if h.Dim[a+1] <= 0 {
			return nil, fmt.Errorf("nifti: dim[%d]=%d: must be positive", a+1, h.Dim[a+1])
		}
		g.Size[a] = int(h.Dim[a+1])
	}
	if g.Len() > 1<<28 {
		return nil, fmt.Errorf("nifti: dim %v: too large", g.Size)
	}
	if err := niftiGeometry(&h, &g); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("nifti: %w", err)
	}
	var bpv int
	switch h.Datatype {
	case niftiUint8, niftiInt8:
		bpv = 1
	case niftiInt16, niftiUint16:
		bpv = 2
	case niftiInt32, niftiFloat32:
		bpv = 4
	case niftiFloat64:
		bpv = 8
	default:
		return nil, fmt.Errorf("nifti: datatype %d not supported", h.Datatype)
	}
	off := int(h.VoxOffset)
	if off < niftiHeaderSize || off > 1<<20 {
		off = 352
	}
	if _, err := io.CopyN(io.Discard, br, int64(off-niftiHeaderSize)); err != nil {
		return nil, fmt.Errorf("nifti: extension: %w", err)
	}
	// Read through a limited reader so a forged header cannot make us allocate more than the file holds.
	want := int64(g.Len() * bpv)
	buf, err := io.ReadAll(io.LimitReader(br, want))
	if err != nil {
		return nil, fmt.Errorf("nifti: voxel data: %w", err)
	}
	if int64(len(buf)) != want {
		return nil, fmt.Errorf("nifti: voxel data: %d bytes, want %d for dim %v", len(buf), want, g.Size)
	}
	slope, inter := float64(h.SclSlope), float64(h.SclInter)
	if slope == 0 || math.IsNaN(slope) || math.IsInf(slope, 0) {
		slope, inter = 1, 0
	}
	if math.IsNaN(inter) || math.IsInf(inter, 0) {
		inter = 0
	}
	v := NewVolume(g)
	for i := range v.Data {
		b := buf[i*bpv:]
		var x float64
		switch h.Datatype {
		case niftiUint8:
			x = float64(b[0])
		case niftiInt8:
			x = float64(int8(b[0]))
		case niftiInt16:
			x = float64(int16(order.Uint16(b)))
		case niftiUint16:
			x = float64(order.Uint16(b))
		case niftiInt32:
			x = float64(int32(order.Uint32(b)))
		case niftiFloat32:
			x = float64(math.Float32frombits(order.Uint32(b)))
		case niftiFloat64:
			x = math.Float64frombits(order.Uint64(b))
		}
		v.Data[i] = x*slope + inter
	}
	return v, nil
}

// niftiGeometry fills spacing, origin and direction from the sform (preferred) or qform.
func niftiGeometry(h *niftiHeader, g *Grid) error {
	var ras [3][4]float64
	switch {
	case h.SformCode > 0:
		for c := 0; c < 4; c++ {
			ras[0][c], ras[1][c], ras[2][c] = float64(h.SrowX[c]), float64(h.SrowY[c]), float64(h.SrowZ[c])
		}
	case h.QformCode > 0:
		b, c, d := float64(h.QuaternB), float64(h.QuaternC), float64(h.QuaternD)
		a := 1 - (b*b + c*c + d*d)
		if a < 1e-7 {
			a = 0
		} else {
			a = math.Sqrt(a)
		}
		r := [3][3]float64{
			{a*a + b*b - c*c - d*d, 2 * (b*c - a*d), 2 * (b*d + a*c)},
			{2 * (b*c + a*d), a*a + c*c - b*b - d*d, 2 * (c*d - a*b)},
			{2 * (b*d - a*c), 2 * (c*d + a*b), a*a + d*d - c*c - b*b},
		}
		qfac := float64(h.Pixdim[0])
		if qfac == 0 {
			qfac = 1
		}
		sp := [3]float64{float64(h.Pixdim[1]), float64(h.Pixdim[2]), float64(h.Pixdim[3]) * qfac}
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				ras[i][j] = r[i][j] * sp[j]
			}
		}
		ras[0][3], ras[1][3], ras[2][3] = float64(h.QoffsetX), float64(h.QoffsetY), float64(h.QoffsetZ)
	default:
		// Analyze-style: spacing only.
		for a := 0; a < 3; a++ {
			ras[a][a] = float64(h.Pixdim[a+1])
		}
	}
	// RAS → LPS: negate the first two rows.
	for c := 0; c < 4; c++ {
		ras[0][c], ras[1][c] = -ras[0][c], -ras[1][c]
	}
	for c := 0; c < 3; c++ {
		n := math.Sqrt(ras[0][c]*ras[0][c] + ras[1][c]*ras[1][c] + ras[2][c]*ras[2][c])
		if !(n > 0) || math.IsInf(n, 0) {
			return fmt.Errorf("nifti: affine column %d has zero or invalid length", c)
		}
		g.Spacing[c] = n
		for r := 0; r < 3; r++ {
			g.Direction[3*r+c] = ras[r][c] / n
		}
	}
	for r := 0; r < 3; r++ {
		g.Origin[r] = ras[r][3]
	}
	return nil
}

// WriteNIfTI writes v as NIfTI-1 float32 (gzip-compressed when path ends in .gz).
func WriteNIfTI(path string, v *Volume) error {
	return writeNIfTIFile(path, v.Grid, niftiFloat32, func(w io.Writer) error {
		buf := make([]byte, 4*len(v.Data))
		for i, x := range v.Data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(x)))
		}
		_, err := w.Write(buf)
		return err
	})
}

// WriteNIfTILabels writes m as NIfTI-1 uint8 (gzip-compressed when path ends in .gz).
func WriteNIfTILabels(path string, m *Labels) error {
	return writeNIfTIFile(path, m.Grid, niftiUint8, func(w io.Writer) error {
		_, err := w.Write(m.Data)
		return err
	})
}

func writeNIfTIFile(path string, g Grid, datatype int16, body func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		// Fixed header fields (no name, no mtime) keep the output byte-identical across runs.
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	bw := bufio.NewWriter(w)
	err = EncodeNIfTIHeader(bw, g, datatype)
	if err == nil {
		err = body(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if zw != nil && err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// EncodeNIfTIHeader writes the 348-byte header and the 4 empty extension bytes for grid g.
func EncodeNIfTIHeader(w io.Writer, g Grid, datatype int16) error {
	var h niftiHeader
	h.SizeofHdr = niftiHeaderSize
	h.Regular = 'r'
	h.Dim = [8]int16{3, int16(g.Size[0]), int16(g.Size[1]), int16(g.Size[2]), 1, 1, 1, 1}
	h.Datatype = datatype
	switch datatype {
	case niftiUint8:
		h.Bitpix = 8
	case niftiFloat32:
		h.Bitpix = 32
	default:
		return fmt.Errorf("nifti: write datatype %d not supported", datatype)
	}
	h.VoxOffset = 352
	h.SclSlope = 1
	h.XYZTUnits = 2 // mm
	// LPS affine → RAS.
	a := g.Affine()
	rows := [3][4]float32{}
	for r := 0; r < 3; r++ {
		s := 1.0
		if r < 2 {
			s = -1
		}
		for c := 0; c < 4; c++ {
			rows[r][c] = float32(s * a[4*r+c])
		}
	}
	h.SrowX, h.SrowY, h.SrowZ = rows[0], rows[1], rows[2]
	h.SformCode, h.QformCode = 1, 1
	// Quaternion of the RAS rotation (NIfTI-1 nifti_mat44_to_quatern, without the orthogonalisation).
	var R [3][3]float64
	for r := 0; r < 3; r++ {
		s := 1.0
		if r < 2 {
			s = -1
		}
		for c := 0; c < 3; c++ {
			R[r][c] = s * g.Direction[3*r+c]
		}
	}
	det := R[0][0]*(R[1][1]*R[2][2]-R[1][2]*R[2][1]) - R[0][1]*(R[1][0]*R[2][2]-R[1][2]*R[2][0]) + R[0][2]*(R[1][0]*R[2][1]-R[1][1]*R[2][0])
	qfac := 1.0
	if det < 0 {
		qfac = -1
		for r := 0; r < 3; r++ {
			R[r][2] = -R[r][2]
		}
	}
	qa, qb, qc, qd := matToQuatern(R)
	if qa < 0 {
		qb, qc, qd = -qb, -qc, -qd
	}
	h.QuaternB, h.QuaternC, h.QuaternD = float32(qb), float32(qc), float32(qd)
	h.QoffsetX, h.QoffsetY, h.QoffsetZ = rows[0][3], rows[1][3], rows[2][3]
	h.Pixdim = [8]float32{float32(qfac), float32(g.Spacing[0]), float32(g.Spacing[1]), float32(g.Spacing[2]), 1, 1, 1, 1}
	copy(h.Descrip[:], "sacrum")
	copy(h.Magic[:], "n+1\x00")
	if err := binary.Write(w, binary.LittleEndian, &h); err != nil {
		return err
	}
	_, err := w.Write([]byte{0, 0, 0, 0})
	return err
}

func matToQuatern(R [3][3]float64) (a, b, c, d float64) {
	a = R[0][0] + R[1][1] + R[2][2] + 1
	if a > 0.5 {
		a = 0.5 * math.Sqrt(a)
		b = 0.25 * (R[2][1] - R[1][2]) / a
		c = 0.25 * (R[0][2] - R[2][0]) / a
		d = 0.25 * (R[1][0] - R[0][1]) / a
		return
	}
	xd := 1 + R[0][0] - (R[1][1] + R[2][2])
	yd := 1 + R[1][1] - (R[0][0] + R[2][2])
	zd := 1 + R[2][2] - (R[0][0] + R[1][1])
	switch {
	case xd > 1:
		b = 0.5 * math.Sqrt(xd)
		c = 0.25 * (R[0][1] + R[1][0]) / b
		d = 0.25 * (R[0][2] + R[2][0]) / b
		a = 0.25 * (R[2][1] - R[1][2]) / b
	case yd > 1:
		c = 0.5 * math.Sqrt(yd)
		b = 0.25 * (R[0][1] + R[1][0]) / c
		d = 0.25 * (R[1][2] + R[2][1]) / c
		a = 0.25 * (R[0][2] - R[2][0]) / c
	default:
		d = 0.5 * math.Sqrt(zd)
		b = 0.25 * (R[0][2] + R[2][0]) / d
		c = 0.25 * (R[1][2] + R[2][1]) / d
		a = 0.25 * (R[1][0] - R[0][1]) / d
	}
	return
}
