package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

// bundleEvalOptions are the flags of `sacrum evaluate --bundle`.
type bundleEvalOptions struct {
	dir, features, clinical string
	endpoint, split         string
	json                    bool
	seed                    uint64
}

// runBundle evaluates a trained bundle on a cohort (external validation).
func (c *EvaluateCommand) runBundle(ctx context.Context, o bundleEvalOptions) error {
	if o.features == "" || o.clinical == "" {
		return usageError("sacrum evaluate: --bundle needs --features and --clinical")
	}
	b, err := learn.LoadBundle(o.dir)
	if err != nil {
		return fmt.Errorf("sacrum evaluate: %w", err)
	}
	endpoints := b.EndpointNames()
	if o.endpoint != "" {
		if b.Endpoints[o.endpoint] == nil {
			return usageError("sacrum evaluate: the bundle has no endpoint %q (has %s)", o.endpoint, strings.Join(endpoints, ", "))
		}
		endpoints = []string{o.endpoint}
	}
	crecs, _, err := readCSVFile(o.clinical)
	if err != nil {
		return fmt.Errorf("sacrum evaluate: %w", err)
	}
	header, rows := crecs[0], crecs[1:]
	idCol := columnIndex(header, "patient_id")
	if idCol < 0 {
		return fmt.Errorf("sacrum evaluate: %s: no patient_id column", o.clinical)
	}
	if o.split != "" {
		sc := columnIndex(header, "split")
		if sc < 0 {
			return usageError("sacrum evaluate: --split %s: %s has no split column", o.split, o.clinical)
		}
		var kept [][]string
		for _, r := range rows {
			if strings.EqualFold(strings.TrimSpace(r[sc]), o.split) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	feats, err := readBundleFeatures(o.features, b.Features())
	if err != nil {
		return fmt.Errorf("sacrum evaluate: %w", err)
	}
	// Predict every patient.
	type patient struct {
		preds    map[string]learn.Prediction
		clinical map[string]float64
	}
	patients := make([]patient, len(rows))
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := strings.TrimSpace(r[idCol])
		f, ok := feats[id]
		if !ok {
			return fmt.Errorf("sacrum evaluate: %s: row %d: patient has no reader-1 row in %s", o.clinical, i+2, o.features)
		}
		raw := map[string]string{}
		for j, h := range header {
			raw[strings.TrimSpace(h)] = r[j]
		}
		clin, _, err := b.EncodeClinical(raw)
		if err != nil {
			return fmt.Errorf("sacrum evaluate: %s: row %d: %w", o.clinical, i+2, err)
		}
		p, err := b.Predict(f, clin)
		if err != nil {
			return fmt.Errorf("sacrum evaluate: %s: row %d: %w", o.clinical, i+2, err)
		}
		patients[i] = patient{preds: p, clinical: clin}
	}

	reports := map[string]evaluateReport{}
	var evaluated []string
	fallbacks := map[string]int{}
	for _, ep := range endpoints {
		oc := columnIndex(header, b.Endpoints[ep].Outcome)
		if oc < 0 {
			if o.endpoint != "" {
				return fmt.Errorf("sacrum evaluate: %s: outcome column %q not found", o.clinical, b.Endpoints[ep].Outcome)
			}
			continue
		}
		e := b.Endpoints[ep]
		y := make([]int, len(rows))
		probs := map[string][]float64{}
		complete := true
		var clinCols [][]float64
		for range e.Clinical.Inputs {
			clinCols = append(clinCols, make([]float64, len(rows)))
		}
		for i, r := range rows {
			switch s := strings.TrimSpace(r[oc]); s {
			case "0", "1":
				y[i] = int(s[0] - '0')
			default:
				return fmt.Errorf("sacrum evaluate: %s: row %d: outcome %q is %q, want 0 or 1", o.clinical, i+2, e.Outcome, s)
			}
			p := patients[i].preds[ep]
			probs[learn.ModelDLRC] = append(probs[learn.ModelDLRC], p.Probability)
			if p.Variant == learn.VariantDLROnly {
				fallbacks[ep]++
			}
			dlr, err := e.DLR.Predict([][]float64{{p.DLRScore}})
			if err != nil {
				return fmt.Errorf("sacrum evaluate: %w", err)
			}
			probs[learn.ModelDLR] = append(probs[learn.ModelDLR], dlr[0])
			for j, in := range e.Clinical.Inputs {
				v, ok := patients[i].clinical[in]
				complete = complete && ok
				clinCols[j][i] = v
			}
		}
		if err := learn.CheckEvents(y); err != nil {
			return fmt.Errorf("sacrum evaluate: %s: outcome %q: %w", o.clinical, e.Outcome, err)
		}
		names := []string{learn.ModelDLR, learn.ModelDLRC}
		if complete {
			p, err := e.Clinical.Predict(clinCols)
			if err != nil {
				return fmt.Errorf("sacrum evaluate: %w", err)
			}
			probs[learn.ModelClinical] = p
			names = append([]string{learn.ModelClinical}, names...)
		}
		rep := evaluateReport{N: len(y), Models: map[string]learn.ModelMetrics{}, Comparisons: map[string]learn.Comparison{}}
		for _, v := range y {
			rep.Prevalence += float64(v)
		}
		rep.Prevalence /= float64(len(y))
		for _, name := range names {
			m, err := learn.Evaluate(y, probs[name], learn.EvaluateOptions{Seed: o.seed})
			if err != nil {
				return fmt.Errorf("sacrum evaluate: %s, %s model: %w", ep, name, err)
			}
			rep.Models[name] = m
			if complete && name != learn.ModelClinical {
				cmp, err := learn.Compare(y, probs[name], probs[learn.ModelClinical])
				if err != nil {
					return fmt.Errorf("sacrum evaluate: %s, %s against clinical: %w", ep, name, err)
				}
				cmp.Reference = learn.ModelClinical
				rep.Comparisons[name] = cmp
			}
		}
		reports[ep] = rep
		evaluated = append(evaluated, ep)
	}
	if len(evaluated) == 0 {
		return fmt.Errorf("sacrum evaluate: %s has none of the bundle's outcome columns", o.clinical)
	}
	if o.json {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	for k, ep := range evaluated {
		if k > 0 {
			fmt.Fprintln(c.Stdout)
		}
		rep := reports[ep]
		fmt.Fprintf(c.Stdout, "%s\n", endpointLabel(ep))
		if n := fallbacks[ep]; n > 0 {
			fmt.Fprintf(c.Stdout, "%d patients lack a clinical input: dlrc is their DLR-only prediction; clinical model left out\n", n)
		}
		names := []string{learn.ModelClinical, learn.ModelDLR, learn.ModelDLRC}
		if _, ok := rep.Models[learn.ModelClinical]; !ok {
			names = names[1:]
		}
		if err := writeEvaluateTable(c.Stdout, rep, names, len(rep.Comparisons) > 0); err != nil {
			return err
		}
	}
	return nil
}

// readBundleFeatures reads the reader-1 rows (or every row without a reader
// column) of a features CSV: patient → feature → value, for the features
// the bundle needs. A non-finite needed value is an error naming it.
func readBundleFeatures(path string, need []string) (map[string]map[string]float64, error) {
	recs, _, err := readCSVFile(path)
	if err != nil {
		return nil, err
	}
	header := recs[0]
	idCol, readerCol := columnIndex(header, "patient_id"), columnIndex(header, "reader")
	if idCol < 0 {
		return nil, fmt.Errorf("%s: no patient_id column", path)
	}
	cols := make([]int, len(need))
	for k, f := range need {
		if cols[k] = columnIndex(header, f); cols[k] < 0 {
			return nil, fmt.Errorf("%s: the bundle needs feature %q, which is not a column (were the features extracted with the bundle's settings?)", path, f)
		}
	}
	out := map[string]map[string]float64{}
	for i, r := range recs[1:] {
		if readerCol >= 0 && strings.TrimSpace(r[readerCol]) != "1" {
			continue
		}
		id := strings.TrimSpace(r[idCol])
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("%s: row %d: second reader-1 row for the same patient", path, i+2)
		}
		m := make(map[string]float64, len(need))
		for k, f := range need {
			s := strings.TrimSpace(r[cols[k]])
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: row %d: feature %q is %q, want a finite number", path, i+2, f, s)
			}
			m[f] = v
		}
		out[id] = m
	}
	return out, nil
}
