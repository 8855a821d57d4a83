package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NRRD (Teem's "nearly raw raster data", http://teem.sourceforge.net/nrrd/format.html): a text
// header followed by the voxels. Supported: dimension 2 or 3 (2D images get one slice), every scalar
// type, encodings raw, gzip and ascii, either endianness, "space directions"/"space origin" in
// left-posterior-superior or right-anterior-superior space (or the older "spacings"), "byte skip" and
// "line skip", and a detached header (.nhdr) naming one "data file".

// ReadNRRDVolume reads an NRRD file (.nrrd, or a detached .nhdr header) as a float volume.
func ReadNRRDVolume(path string) (*Volume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	h, err := readNRRDHeader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var body io.Reader = br
	if h.dataFile != "" {
		name := h.dataFile
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(path), name)
		}
		df, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: data file: %w", path, err)
		}
		defer df.Close()
		body = bufio.NewReader(df)
	}
	v, err := h.decodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ReadNRRDLabels reads an NRRD label map; voxel values must be integers in 0…255.
func ReadNRRDLabels(path string) (*Labels, error) {
	v, err := ReadNRRDVolume(path)
	return labelsOf(path, v, err)
}

// DecodeNRRD reads an NRRD stream with an attached data section.
func DecodeNRRD(r io.Reader) (*Volume, error) {
	br := bufio.NewReader(r)
	h, err := readNRRDHeader(br)
	if err != nil {
		return nil, err
	}
	if h.dataFile != "" {
		return nil, fmt.Errorf("nrrd: detached data file %q: read the header with ReadNRRDVolume", h.dataFile)
	}
	return h.decodeBody(br)
}

type nrrdHeader struct {
	typ       string // canonical type name
	size      int    // bytes per voxel
	grid      Grid
	encoding  string // raw, gzip, ascii
	bigEndian bool
	lineSkip  int
	byteSkip  int
	dataFile  string
}

// nrrdTypes maps every spelling of the NRRD scalar types to a canonical name and its size.
var nrrdTypes = map[string]struct {
	name string
	size int
}{
	"signed char": {"int8", 1}, "int8": {"int8", 1}, "int8_t": {"int8", 1},
	"uchar": {"uint8", 1}, "unsigned char": {"uint8", 1}, "uint8": {"uint8", 1}, "uint8_t": {"uint8", 1},
	"short": {"int16", 2}, "short int": {"int16", 2}, "signed short": {"int16", 2}, "signed short int": {"int16", 2}, "int16": {"int16", 2}, "int16_t": {"int16", 2},
	"ushort": {"uint16", 2}, "unsigned short": {"uint16", 2}, "unsigned short int": {"uint16", 2}, "uint16": {"uint16", 2}, "uint16_t": {"uint16", 2},
	"int": {"int32", 4}, "signed int": {"int32", 4}, "int32": {"int32", 4}, "int32_t": {"int32", 4},
	"uint": {"uint32", 4}, "unsigned int": {"uint32", 4}, "uint32": {"uint32", 4}, "uint32_t": {"uint32", 4},
	"longlong": {"int64", 8}, "long long": {"int64", 8}, "long long int": {"int64", 8}, "signed long long": {"int64", 8}, "signed long long int": {"int64", 8}, "int64": {"int64", 8}, "int64_t": {"int64", 8},
	"ulonglong": {"uint64", 8}, "unsigned long long": {"uint64", 8}, "unsigned long long int": {"uint64", 8}, "uint64": {"uint64", 8}, "uint64_t": {"uint64", 8},
	"float": {"float32", 4}, "double": {"float64", 8},
}

// maxHeaderLines bounds the header so a malformed file cannot make us read forever.
const maxHeaderLines = 4096

func readNRRDHeader(br *bufio.Reader) (*nrrdHeader, error) {
	magic, err := br.ReadString('\n')
	if err != nil && magic == "" {
		return nil, fmt.Errorf("nrrd: reading magic: %w", err)
	}
	if !strings.HasPrefix(magic, "NRRD000") {
		return nil, errors.New("nrrd: magic: not an NRRD file (want NRRD000x)")
	}
	fields := map[string]string{}
	for n := 0; ; n++ {
		if n > maxHeaderLines {
			return nil, errors.New("nrrd: header: too many lines")
		}
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("nrrd: header: %w", err)
		}
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			break // blank line ends the header (or end of a detached header)
		}
		if !strings.HasPrefix(trimmed, "#") && !strings.Contains(trimmed, ":=") {
			k, v, ok := strings.Cut(trimmed, ": ")
			if !ok {
				return nil, fmt.Errorf("nrrd: header line %q: want \"field: value\"", trimmed)
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if err == io.EOF {
			break
		}
	}
	return parseNRRDFields(fields)
}

func parseNRRDFields(f map[string]string) (*nrrdHeader, error) {
	h := &nrrdHeader{encoding: "raw"}
	t, ok := nrrdTypes[strings.ToLower(f["type"])]
	if !ok {
		return nil, fmt.Errorf("nrrd: field type: %q is not a supported scalar type", f["type"])
	}
	h.typ, h.size = t.name, t.size
	dim, err := strconv.Atoi(f["dimension"])
	if err != nil || (dim != 2 && dim != 3) {
		return nil, fmt.Errorf("nrrd: field dimension: %q, want 2 or 3", f["dimension"])
	}
	sizes := strings.Fields(f["sizes"])
	if len(sizes) != dim {
		return nil, fmt.Errorf("nrrd: field sizes: %q, want %d sizes", f["sizes"], dim)
	}
	h.grid = NewGrid([3]int{1, 1, 1}, [3]float64{1, 1, 1})
	for a, s := range sizes {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1<<20 {
			return nil, fmt.Errorf("nrrd: field sizes: %q is not a valid size", s)
		}
		h.grid.Size[a] = n
	}
	if err := h.parseGeometry(f, dim); err != nil {
		return nil, err
	}
	if err := h.grid.Validate(); err != nil {
		return nil, fmt.Errorf("nrrd: %w", err)
	}
	switch enc := strings.ToLower(f["encoding"]); enc {
	case "raw":
	case "gzip", "gz":
		h.encoding = "gzip"
	case "ascii", "text", "txt":
		h.encoding = "ascii"
	default:
		return nil, fmt.Errorf("nrrd: field encoding: %q is not supported (raw, gzip, ascii)", f["encoding"])
	}
	switch e := strings.ToLower(f["endian"]); e {
	case "", "little":
	case "big":
		h.bigEndian = true
	default:
		return nil, fmt.Errorf("nrrd: field endian: %q, want little or big", e)
	}
	for _, k := range []string{"line skip", "lineskip", "byte skip", "byteskip"} {
		if s, ok := f[k]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < -1 || n > 1<<30 {
				return nil, fmt.Errorf("nrrd: field %s: %q is not a valid count", k, s)
			}
			if strings.HasPrefix(k, "line") {
				h.lineSkip = n
			} else {
				h.byteSkip = n
			}
		}
	}
	if h.byteSkip == -1 && h.encoding != "raw" {
		return nil, errors.New("nrrd: field byte skip: -1 is allowed only with raw encoding")
	}
	for _, k := range []string{"data file", "datafile"} {
		if s, ok := f[k]; ok {
			if strings.Contains(s, "%") || strings.Fields(s)[0] == "LIST" {
				return nil, fmt.Errorf("nrrd: field data file: %q: only a single data file is supported", s)
			}
			h.dataFile = s
		}
	}
	return h, nil
}

// parseGeometry fills spacing, origin and direction (converted to LPS).
func (h *nrrdHeader) parseGeometry(f map[string]string, dim int) error {
	if sd, ok := f["space directions"]; ok {
		vecs, err := parseNRRDVectors(sd)
		if err != nil || len(vecs) != dim {
			return fmt.Errorf("nrrd: field space directions: %q, want %d vectors", sd, dim)
		}
		flip := 1.0
		switch strings.ToLower(f["space"]) {
		case "left-posterior-superior", "lps", "":
		case "right-anterior-superior", "ras":
			flip = -1
		default:
			if _, ok := f["space dimension"]; !ok {
				return fmt.Errorf("nrrd: field space: %q is not supported (left-posterior-superior, right-anterior-superior)", f["space"])
			}
		}
		for a, v := range vecs {
			if len(v) != 3 {
				return fmt.Errorf("nrrd: field space directions: vector %d has %d components, want 3", a, len(v))
			}
			v[0] *= flip
			v[1] *= flip
			n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
			if !(n > 0) || math.IsInf(n, 0) {
				return fmt.Errorf("nrrd: field space directions: vector %d has zero or invalid length", a)
			}
			h.grid.Spacing[a] = n
			for r := 0; r < 3; r++ {
				h.grid.Direction[3*r+a] = v[r] / n
			}
		}
		if dim == 2 { // the slice axis is the cross product of the in-plane axes
			d := &h.grid.Direction
			c := [3]float64{d[3]*d[7] - d[6]*d[4], d[6]*d[1] - d[0]*d[7], d[0]*d[4] - d[3]*d[1]}
			if n := math.Sqrt(c[0]*c[0] + c[1]*c[1] + c[2]*c[2]); n > 0 {
				d[2], d[5], d[8] = c[0]/n, c[1]/n, c[2]/n
			} else {
				d[2], d[5], d[8] = 0, 0, 1
			}
		}
		if so, ok := f["space origin"]; ok {
			vecs, err := parseNRRDVectors(so)
			if err != nil || len(vecs) != 1 || len(vecs[0]) != 3 {
				return fmt.Errorf("nrrd: field space origin: %q, want one 3-vector", so)
			}
			h.grid.Origin = [3]float64{flip * vecs[0][0], flip * vecs[0][1], vecs[0][2]}
		}
		return nil
	}
	if sp, ok := f["spacings"]; ok {
		parts := strings.Fields(sp)
		if len(parts) != dim {
			return fmt.Errorf("nrrd: field spacings: %q, want %d values", sp, dim)
		}
		for a, s := range parts {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) {
				return fmt.Errorf("nrrd: field spacings: %q is not a positive spacing", s)
			}
			h.grid.Spacing[a] = x
		}
	}
	return nil
}

// parseNRRDVectors parses "(a,b,c) (d,e,f) none".
func parseNRRDVectors(s string) ([][]float64, error) {
	var out [][]float64
	for _, tok := range strings.Fields(strings.ReplaceAll(s, ") (", ")  (")) {
		if tok == "none" {
			out = append(out, nil)
			continue
		}
		if !strings.HasPrefix(tok, "(") || !strings.HasSuffix(tok, ")") {
			return nil, fmt.Errorf("vector %q", tok)
		}
		var v []float64
		for _, c := range strings.Split(tok[1:len(tok)-1], ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("vector %q", tok)
			}
			v = append(v, x)
		}
		out = append(out, v)
	}
	return out, nil
}

func (h *nrrdHeader) decodeBody(r io.Reader) (*Volume, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	for i := 0; i < h.lineSkip; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("nrrd: line skip: %w", err)
		}
	}
	n := h.grid.Len()
	if h.encoding == "ascii" {
		return h.decodeASCII(br, n)
	}
	var raw []byte
	var err error
	need := int64(n) * int64(h.size)
	switch {
	case h.byteSkip == -1: // the data are the last bytes of the file
		raw, err = io.ReadAll(io.LimitReader(br, 1<<34))
		if err == nil && int64(len(raw)) >= need {
			raw = raw[int64(len(raw))-need:]
		}
	default:
		var src io.Reader = br
		if h.encoding == "gzip" {
			zr, zerr := gzip.NewReader(br)
			if zerr != nil {
				return nil, fmt.Errorf("nrrd: gzip data: %w", zerr)
			}
			defer zr.Close()
			src = zr
		}
		if _, err := io.CopyN(io.Discard, src, int64(h.byteSkip)); err != nil {
			return nil, fmt.Errorf("nrrd: byte skip: %w", err)
		}
		// Read at most what the header announces, so memory follows the real data.
		raw, err = io.ReadAll(io.LimitReader(src, need))
	}
	if err != nil {
		return nil, fmt.Errorf("nrrd: data: %w", err)
	}
	if int64(len(raw)) < need {
		return nil, fmt.Errorf("nrrd: data: %d bytes, want %d (sizes %v, type %s)", len(raw), need, h.grid.Size, h.typ)
	}
	v := NewVolume(h.grid)
	var bo binary.ByteOrder = binary.LittleEndian
	if h.bigEndian {
		bo = binary.BigEndian
	}
	for i := range v.Data {
		b := raw[i*h.size : (i+1)*h.size]
		switch h.typ {
		case "int8":
			v.Data[i] = float64(int8(b[0]))
		case "uint8":
			v.Data[i] = float64(b[0])
		case "int16":
			v.Data[i] = float64(int16(bo.Uint16(b)))
		case "uint16":
			v.Data[i] = float64(bo.Uint16(b))
		case "int32":
			v.Data[i] = float64(int32(bo.Uint32(b)))
		case "uint32":
			v.Data[i] = float64(bo.Uint32(b))
		case "int64":
			v.Data[i] = float64(int64(bo.Uint64(b)))
		case "uint64":
			v.Data[i] = float64(bo.Uint64(b))
		case "float32":
			v.Data[i] = float64(math.Float32frombits(bo.Uint32(b)))
		case "float64":
			v.Data[i] = math.Float64frombits(bo.Uint64(b))
		}
	}
	return v, nil
}

func (h *nrrdHeader) decodeASCII(br *bufio.Reader, n int) (*Volume, error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	sc.Split(bufio.ScanWords)
	data := make([]float64, 0, min(n, 1<<16))
	for len(data) < n && sc.Scan() {
		tok := strings.Trim(string(bytes.TrimSpace(sc.Bytes())), ",")
		if tok == "" {
			continue
		}
		x, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("nrrd: ascii data: value %d: %q is not a number", len(data), tok)
		}
		data = append(data, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("nrrd: ascii data: %w", err)
	}
	if len(data) < n {
		return nil, fmt.Errorf("nrrd: ascii data: %d values, want %d (sizes %v)", len(data), n, h.grid.Size)
	}
	return &Volume{Grid: h.grid, Data: data}, nil
}

// WriteNRRD writes v as a gzip-compressed NRRD file (double voxels, LPS space).
func WriteNRRD(path string, v *Volume) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := EncodeNRRD(f, v); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// EncodeNRRD writes v as a gzip-compressed NRRD stream.
func EncodeNRRD(w io.Writer, v *Volume) error {
	g := v.Grid
	var dirs []string
	for a := 0; a < 3; a++ {
		dirs = append(dirs, fmt.Sprintf("(%.17g,%.17g,%.17g)",
			g.Direction[a]*g.Spacing[a], g.Direction[3+a]*g.Spacing[a], g.Direction[6+a]*g.Spacing[a]))
	}
	hdr := fmt.Sprintf("NRRD0004\ntype: double\ndimension: 3\nspace: left-posterior-superior\nsizes: %d %d %d\n"+
		"space directions: %s\nkinds: domain domain domain\nendian: little\nencoding: gzip\n"+
		"space origin: (%.17g,%.17g,%.17g)\n\n",
		g.Size[0], g.Size[1], g.Size[2], strings.Join(dirs, " "), g.Origin[0], g.Origin[1], g.Origin[2])
	if _, err := io.WriteString(w, hdr); err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	buf := make([]byte, 8*len(v.Data))
	for i, x := range v.Data {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
	}
	if _, err := zw.Write(buf); err != nil {
		return err
	}
	return zw.Close()
}
