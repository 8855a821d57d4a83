package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sacrum-dev/sacrum/pipeline/image"
	"github.com/sacrum-dev/sacrum/pipeline/radiomics"
	"github.com/sacrum-dev/sacrum/pipeline/volume"
)

// RadiomicsCommand computes IBSI / PyRadiomics features of one ROI.
type RadiomicsCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Run parses the flags, reads the image, mask and parameter file, and prints the features.
func (c *RadiomicsCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("radiomics", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	imgPath := fs.String("image", "", "image: .nrrd, .nhdr, .nii, .nii.gz, or a DICOM series directory (required)")
	maskPath := fs.String("mask", "", "label map on the image grid (same formats) or a DICOM SEG file/directory (required)")
	label := fs.Int("label", 0, "ROI label (default: the parameter file's label, else 1)")
	params := fs.String("params", "", "PyRadiomics parameter file (YAML); default: PyRadiomics defaults")
	naming := fs.String("naming", "pyradiomics", "feature names: pyradiomics or ibsi")
	asJSON := fs.Bool("json", false, "print one JSON object")
	asCSV := fs.Bool("csv", false, "print CSV (a header row of names and a row of values)")
	if err := parseFlags(fs, args, "sacrum radiomics", true); err != nil {
		return err
	}
	if *imgPath == "" || *maskPath == "" {
		return usageError("sacrum radiomics: --image and --mask are required")
	}
	if *asJSON && *asCSV {
		return usageError("sacrum radiomics: --json and --csv are exclusive")
	}
	n := radiomics.Naming(*naming)
	if n != radiomics.NamingPyRadiomics && n != radiomics.NamingIBSI {
		return usageError("sacrum radiomics: --naming %q: want pyradiomics or ibsi", *naming)
	}
	if *label < 0 || *label > 255 {
		return usageError("sacrum radiomics: --label %d: want 1…255", *label)
	}
	s := radiomics.DefaultSettings()
	if *params != "" {
		var err error
		if s, err = radiomics.ReadSettings(*params); err != nil {
			return fmt.Errorf("sacrum radiomics: %w", err)
		}
	}
	img, err := readRadiomicsImage(ctx, *imgPath)
	if err != nil {
		return fmt.Errorf("sacrum radiomics: image: %w", err)
	}
	mask, err := readRadiomicsMask(ctx, *maskPath, img.Grid)
	if err != nil {
		return fmt.Errorf("sacrum radiomics: mask: %w", err)
	}
	res, err := radiomics.ExtractContext(ctx, img, mask, *label, s)
	if err != nil {
		return fmt.Errorf("sacrum radiomics: image %s, mask %s: %w", *imgPath, *maskPath, err)
	}
	switch {
	case *asJSON:
		return writeRadiomicsJSON(c.Stdout, res, n)
	case *asCSV:
		return writeRadiomicsCSV(c.Stdout, res, n)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "FEATURE\tVALUE\tNOTE\n")
	for _, v := range res.Features {
		val := "null"
		if !math.IsNaN(v.Value) {
			val = strconv.FormatFloat(v.Value, 'g', 6, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name(n), val, v.Reason)
	}
	fmt.Fprintf(tw, "\n%d features; %s\n", len(res.Features), res.Diagnostics["research_use"])
	return tw.Flush()
}

// readRadiomicsImage reads an NRRD or NIfTI file, or the one image series of a DICOM directory.
func readRadiomicsImage(ctx context.Context, path string) (*image.Volume, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return image.ReadVolumeFile(path)
	}
	st, err := volume.ReadDir(ctx, path)
	if err != nil {
		return nil, err
	}
	var series []*volume.Series
	var names []string
	for _, s := range st.Series {
		if !s.IsSegmentation() {
			series = append(series, s)
			names = append(names, s.Name())
		}
	}
	if len(series) != 1 {
		return nil, fmt.Errorf("%s: %d DICOM image series (%s): give the directory of one series", path, len(series), strings.Join(names, "; "))
	}
	return volume.Assemble(series[0])
}

// readRadiomicsMask reads a label map (NRRD, NIfTI) or a DICOM SEG file or directory, mapped onto
// the image grid g (left segment = label 1, right = 2, as pipeline/volume assigns them). A label file
// holding the image's voxels in another axis order (e.g. dcm2niix's row order against a DICOM series)
// is reoriented exactly; any other grid is left for the settings (correctMask) to judge.
func readRadiomicsMask(ctx context.Context, path string, g image.Grid) (*image.Labels, error) {
	l := strings.ToLower(path)
	for _, ext := range []string{".nrrd", ".nhdr", ".nii", ".nii.gz"} {
		if strings.HasSuffix(l, ext) {
			m, err := image.ReadLabelsFile(path)
			if err != nil {
				return nil, err
			}
			if !m.SameGrid(g, 1e-3) {
				if r, err := image.Reorient(m, g); err == nil {
					return r, nil
				}
			}
			return m, nil
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var st *volume.Study
	if fi.IsDir() {
		st, err = volume.ReadDir(ctx, path)
	} else {
		st, err = volume.ReadFiles(ctx, []string{path})
	}
	if err != nil {
		return nil, err
	}
	for _, s := range st.Series {
		if s.IsSegmentation() {
			return volume.SegmentationLabels(s, g)
		}
	}
	return nil, fmt.Errorf("%s: no DICOM SEG found (and not a .nrrd, .nhdr, .nii or .nii.gz label map)", path)
}

// formatFeature prints the shortest representation that reads back to the same float64.
func formatFeature(x float64) string {
	if math.IsNaN(x) {
		return "null"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// writeRadiomicsJSON prints {name: value, …, "diagnostics": {…, "undefined": {name: reason}}} with
// the features in extraction order; undefined values are null.
func writeRadiomicsJSON(w io.Writer, res *radiomics.Result, n radiomics.Naming) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	undefined := map[string]string{}
	for _, v := range res.Features {
		name := v.Name(n)
		k, _ := json.Marshal(name)
		fmt.Fprintf(&b, "  %s: %s,\n", k, formatFeature(v.Value))
		if math.IsNaN(v.Value) {
			undefined[name] = v.Reason
		}
	}
	diag := map[string]any{}
	for k, v := range res.Diagnostics {
		diag[k] = v
	}
	diag["undefined"] = undefined
	d, err := json.MarshalIndent(diag, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(&b, "  \"diagnostics\": %s\n}\n", d)
	_, err = w.Write(b.Bytes())
	return err
}

// writeRadiomicsCSV prints a header row of names and one row of values (empty when undefined).
func writeRadiomicsCSV(w io.Writer, res *radiomics.Result, n radiomics.Naming) error {
	cw := csv.NewWriter(w)
	var names, values []string
	for _, v := range res.Features {
		names = append(names, v.Name(n))
		s := formatFeature(v.Value)
		if s == "null" {
			s = ""
		}
		values = append(values, s)
	}
	keys := make([]string, 0, len(res.Diagnostics))
	for k := range res.Diagnostics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		names = append(names, "diagnostics_"+k)
		values = append(values, res.Diagnostics[k])
	}
	if err := cw.Write(names); err != nil {
		return err
	}
	if err := cw.Write(values); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// Usage describes the command.
func (c *RadiomicsCommand) Usage() string {
	return `sacrum radiomics computes the radiomics features of one region of interest: IBSI-compliant definitions
(reproducing every value of the IBSI digital phantom reference table) or PyRadiomics' classes with its names
and definitions, configured by a PyRadiomics parameter file (setting, imageType, featureClass; sacrum's IBSI
mode under setting: {ibsi: {...}}, see pipeline/radiomics/doc.go). Research use only.

Usage:

	sacrum radiomics --image IMG --mask MASK [--label N] [--params FILE]
	                 [--naming pyradiomics|ibsi] [--json|--csv]

Images: NRRD (.nrrd, .nhdr), NIfTI-1 (.nii, .nii.gz) or a directory holding one DICOM image series. Masks: a
label map in NRRD or NIfTI on the image grid (or any grid with correctMask: true), or a DICOM SEG file or
directory (mapped onto the image grid; left segment = label 1, right = 2). Undefined values (for example texture
features of a single grey level) are null, with the reason under diagnostics.undefined.

Examples:

	# the IBSI digital phantom with IBSI names
	sacrum radiomics --image phantom_image.nrrd --mask phantom_mask.nrrd \
	    --params pipeline/radiomics/params/ibsi-phantom.yaml --naming ibsi --json

	# PyRadiomics defaults (original image, all default classes, binWidth 25) for the left SIJ
	sacrum radiomics --image t1.nii.gz --mask reader1.nii.gz --label 1 --csv

	# a DICOM series and its DICOM SEG (right SIJ = label 2)
	sacrum radiomics --image study/dicom/3 --mask study/seg.dcm --label 2 --json

	# a site's own PyRadiomics parameter file (LoG, wavelet, …)
	sacrum radiomics --image t1.nrrd --mask roi.nrrd --params Params.yaml --json
`
}
