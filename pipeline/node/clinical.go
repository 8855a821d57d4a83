package node

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ClinicalFromJSON reads a JSON object of clinical variables (the body of PUT /api/v1/clinical/{accession})
// as the raw strings learn.Bundle.EncodeClinical reads: numbers in their shortest exact form, strings as
// they are, booleans as 1 or 0, null as missing.
func ClinicalFromJSON(b []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(b) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("clinical JSON: %w", err)
	}
	for k, v := range obj {
		switch x := v.(type) {
		case nil:
		case json.Number:
			out[k] = x.String()
		case string:
			out[k] = x
		case bool:
			out[k] = "0"
			if x {
				out[k] = "1"
			}
		default:
			return nil, fmt.Errorf("clinical variable %s: a %T is not a value", k, v)
		}
	}
	return out, nil
}

// ClinicalFromCSVDir reads the clinical values of one accession number from every *.csv file in dir (files
// in name order; a later file overrides an earlier one; empty cells do not override). A file is used when its
// header has an "accession" column; every other column is a variable (the bundle picks the ones it needs, so
// clinical.csv of `sacrum synth` works as it is). Files without that column are skipped.
func ClinicalFromCSVDir(dir, accession string) (map[string]string, error) {
	out := map[string]string{}
	if dir == "" || accession == "" {
		return out, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := clinicalFromCSV(f, accession, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ClinicalFromCSV reads the clinical values of one accession number from one CSV file (as
// ClinicalFromCSVDir does for each file of its folder).
func ClinicalFromCSV(path, accession string) (map[string]string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("clinical CSV: %w", err)
	}
	out := map[string]string{}
	if err := clinicalFromCSV(path, accession, out); err != nil {
		return nil, err
	}
	return out, nil
}

func clinicalFromCSV(path, accession string, out map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed while we looked
		}
		return fmt.Errorf("clinical CSV: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clinical CSV %s: %w", path, err)
	}
	col := -1
	for i, h := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if strings.EqualFold(header[i], "accession") {
			col = i
		}
	}
	if col < 0 {
		return nil
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("clinical CSV %s: %w", path, err)
		}
		if col >= len(rec) || strings.TrimSpace(rec[col]) != accession {
			continue
		}
		for i, v := range rec {
			if i == col || i >= len(header) || header[i] == "" {
				continue
			}
			if v = strings.TrimSpace(v); v != "" {
				out[header[i]] = v
			}
		}
	}
}
