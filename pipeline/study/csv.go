package study

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// Row is one line of features.csv: a patient's features computed on one reader's label map.
type Row struct {
	PatientID string
	Reader    int
	Features  *Features
}

// WriteCSV writes features.csv (format in the package documentation): rows sorted by patient and reader,
// feature columns the union of the rows' names in first-seen order, undefined values empty.
func WriteCSV(w io.Writer, rows []Row) error {
	rows = append([]Row(nil), rows...)
	sort.SliceStable(rows, func(a, b int) bool {
		if rows[a].PatientID != rows[b].PatientID {
			return rows[a].PatientID < rows[b].PatientID
		}
		return rows[a].Reader < rows[b].Reader
	})
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, n := range r.Features.Names {
			if !seen[n] {
				seen[n] = true
				cols = append(cols, n)
			}
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"patient_id", "reader"}, cols...)); err != nil {
		return err
	}
	rec := make([]string, 2+len(cols))
	for _, r := range rows {
		rec[0], rec[1] = r.PatientID, strconv.Itoa(r.Reader)
		for j, n := range cols {
			v, ok := r.Features.Values[n]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				rec[2+j] = ""
				continue
			}
			rec[2+j] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("features CSV: %w", err)
	}
	return nil
}
