package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sacrum-dev/sacrum/pipeline/learn"
)

// EvaluateCommand evaluates predicted probabilities against an outcome.
type EvaluateCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

// evaluateReport is the --json output.
type evaluateReport struct {
	N           int                           `json:"n"`
	Prevalence  float64                       `json:"prevalence"`
	Models      map[string]learn.ModelMetrics `json:"models"`
	Comparisons map[string]learn.Comparison   `json:"comparisons"`
}

// Run evaluates every probability column of the predictions CSV.
func (c *EvaluateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	predictions := fs.String("predictions", "", "CSV with an outcome column and predicted-probability columns (required)")
	outcome := fs.String("outcome", "", "name of the 0/1 outcome column (required)")
	reference := fs.String("reference", "", "probability column to compare every other model against")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	seed := fs.Uint64("seed", 1, "seed of the bootstrap")
	bundle := fs.String("bundle", "", "trained bundle directory (external validation; with --features and --clinical)")
	features := fs.String("features", "", "features CSV for --bundle")
	clinical := fs.String("clinical", "", "clinical CSV with the outcome columns for --bundle")
	endpoint := fs.String("endpoint", "", "with --bundle: only this endpoint (default: every endpoint with an outcome column)")
	split := fs.String("split", "", "with --bundle: only patients of this split (train or test) of the clinical CSV")
	if err := parseFlags(fs, args, "sacrum evaluate", true); err != nil {
		return err
	}
	if *bundle != "" {
		if *predictions != "" || *outcome != "" || *reference != "" {
			return usageError("sacrum evaluate: --bundle evaluates the bundle's models; --predictions, --outcome and --reference do not apply")
		}
		return c.runBundle(ctx, bundleEvalOptions{dir: *bundle, features: *features, clinical: *clinical,
			endpoint: *endpoint, split: *split, json: *asJSON, seed: *seed})
	}
	if *predictions == "" || *outcome == "" {
		return usageError("sacrum evaluate: --predictions and --outcome are required")
	}
	y, names, probs, err := readPredictions(*predictions, *outcome)
	if err != nil {
		return fmt.Errorf("sacrum evaluate: %w", err)
	}
	if err := learn.CheckEvents(y); err != nil {
		return fmt.Errorf("sacrum evaluate: %s: outcome %q: %w", *predictions, *outcome, err)
	}
	refIdx := -1
	if *reference != "" {
		for j, n := range names {
			if n == *reference {
				refIdx = j
			}
		}
		if refIdx < 0 {
			return usageError("sacrum evaluate: reference %q is not a probability column of %s (have %s)", *reference, *predictions, strings.Join(names, ", "))
		}
	}
	rep := evaluateReport{N: len(y), Models: map[string]learn.ModelMetrics{}, Comparisons: map[string]learn.Comparison{}}
	for _, v := range y {
		rep.Prevalence += float64(v)
	}
	rep.Prevalence /= float64(len(y))
	for j, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := learn.Evaluate(y, probs[j], learn.EvaluateOptions{Seed: *seed})
		if err != nil {
			return fmt.Errorf("sacrum evaluate: column %q: %w", name, err)
		}
		rep.Models[name] = m
		if refIdx >= 0 && j != refIdx {
			cmp, err := learn.Compare(y, probs[j], probs[refIdx])
			if err != nil {
				return fmt.Errorf("sacrum evaluate: column %q against %q: %w", name, *reference, err)
			}
			cmp.Reference = *reference
			rep.Comparisons[name] = cmp
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeEvaluateTable(c.Stdout, rep, names, refIdx >= 0)
}

// readPredictions reads the outcome and every probability column: a column
// whose cells all parse as numbers in [0, 1]. Columns with any other text
// (patient IDs, say) are skipped; a numeric column with an empty, NA or NaN
// cell, or a probability column that is constant, is an error naming it.
func readPredictions(path, outcome string) (y []int, names []string, probs [][]float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, nil, nil, fmt.Errorf("%s: no data rows", path)
	}
	header := recs[0]
	oc := -1
	for j, h := range header {
		if h == outcome {
			oc = j
		}
	}
	if oc < 0 {
		return nil, nil, nil, fmt.Errorf("%s: outcome column %q not found (columns: %s)", path, outcome, strings.Join(header, ", "))
	}
	rows := recs[1:]
	for i, rec := range rows {
		s := strings.TrimSpace(rec[oc])
		v, perr := strconv.ParseFloat(s, 64)
		if perr != nil || (v != 0 && v != 1) {
			return nil, nil, nil, fmt.Errorf("%s: row %d: outcome %q is %q, want 0 or 1", path, i+2, outcome, s)
		}
		y = append(y, int(v))
	}
	for j, h := range header {
		if j == oc {
			continue
		}
		col := make([]float64, len(rows))
		numeric, missing := 0, -1
		text := false
		for i, rec := range rows {
			s := strings.TrimSpace(rec[j])
			v, perr := strconv.ParseFloat(s, 64)
			switch {
			case isMissing(s) || (perr == nil && math.IsNaN(v)):
				if missing < 0 {
					missing = i
				}
			case perr != nil:
				text = true
			default:
				col[i] = v
				numeric++
			}
		}
		if text || numeric == 0 {
			continue // an identifier or free-text column
		}
		if missing >= 0 {
			return nil, nil, nil, fmt.Errorf("%s: column %q, row %d: missing value %q", path, h, missing+2, rows[missing][j])
		}
		for i, v := range col {
			if v < 0 || v > 1 {
				return nil, nil, nil, fmt.Errorf("%s: column %q, row %d: %v is not a probability in [0, 1]", path, h, i+2, v)
			}
		}
		constant := true
		for _, v := range col[1:] {
			constant = constant && v == col[0]
		}
		if constant {
			return nil, nil, nil, fmt.Errorf("%s: column %q: every prediction is %v; a constant predictor has no AUC CI or calibration slope", path, h, col[0])
		}
		names = append(names, h)
		probs = append(probs, col)
	}
	if len(names) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no probability columns besides %q", path, outcome)
	}
	return y, names, probs, nil
}

func isMissing(s string) bool {
	switch strings.ToLower(s) {
	case "", "na", "nan", "null":
		return true
	}
	return false
}

func writeEvaluateTable(w io.Writer, rep evaluateReport, names []string, compare bool) error {
	events := int(math.Round(rep.Prevalence * float64(rep.N)))
	fmt.Fprintf(w, "%d patients, %d events (prevalence %.3f)\n\n", rep.N, events, rep.Prevalence)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tAUC\t95% CI DELONG\t95% CI BOOTSTRAP\tBRIER\tCAL SLOPE\tCAL INTERCEPT\tHL CHI2\tHL P")
	for _, n := range names {
		m := rep.Models[n]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f–%.3f\t%.3f–%.3f\t%.3f\t%.3f\t%.3f\t%.2f\t%s\n", n, m.AUC,
			m.AUCCIDeLong[0], m.AUCCIDeLong[1], m.AUCCIBootstrap[0], m.AUCCIBootstrap[1],
			m.Brier, m.CalibrationSlope, m.CalibrationIntercept, m.HosmerLemeshow.Chi2, formatP(m.HosmerLemeshow.P))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if compare {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "MODEL\tREFERENCE\tDELONG Z\tDELONG P\tIDI\tIDI SE\tIDI P\tNRI\tNRI P")
		for _, n := range names {
			c, ok := rep.Comparisons[n]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%.4f\t%.4f\t%s\t%.3f\t%s\n", n, c.Reference,
				c.DeLongZ, formatP(c.DeLongP), c.IDI, c.IDISE, formatP(c.IDIP), c.NRI, formatP(c.NRIP))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nCIs: DeLong and stratified bootstrap (2000 resamples); calibration intercept is calibration-in-the-large;")
	fmt.Fprintln(w, "Hosmer–Lemeshow with 10 quantile groups. Research use only, not for diagnostic use.")
	return nil
}

// formatP prints a p-value for people: three decimals, or "<0.001".
func formatP(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// Usage describes the command.
func (c *EvaluateCommand) Usage() string {
	return `sacrum evaluate computes discrimination and calibration of predicted probabilities.

Usage:

	sacrum evaluate --predictions P.csv --outcome COL [--reference COL] [--json] [--seed N]
	sacrum evaluate --bundle DIR --features F --clinical C [--endpoint E] [--split test] [--json]

Every numeric column of P.csv other than the 0/1 outcome is a model's predicted
probability; text columns (patient IDs) are ignored. For each model: AUC with
DeLong and stratified-bootstrap (2,000 resamples, seeded) 95 % CIs, Brier score,
calibration slope and calibration-in-the-large, Hosmer–Lemeshow test (g = 10).
With --reference, every other model is compared with it: paired DeLong test,
IDI and continuous NRI (Pencina 2008). Needs at least 10 events and 10
non-events; missing values are an error naming the column and row.

With --bundle, the bundle's clinical, DLR and DLRC models (from sacrum train)
predict every patient of the features CSV (reader-1 rows) and clinical CSV,
and each endpoint whose outcome column the clinical CSV has is evaluated as
above, the DLR and DLRC models against the clinical one: external
validation. A patient lacking a clinical input gets the DLR-only fallback
in the dlrc column (as the node does), and the clinical model is then left
out.

Arguments:

	--predictions FILE  CSV with a header row (required)
	--outcome COL       the 0/1 outcome column (required)
	--reference COL     the reference model's column, e.g. the clinical model
	--json              print JSON for machines instead of a table
	--seed N            bootstrap seed (default 1)
	--bundle DIR        a bundle written by sacrum train (with --features, --clinical)
	--endpoint E        with --bundle: asas40 or asas20 only
	--split S           with --bundle: only the patients whose split column is S

Examples:

	sacrum evaluate --predictions test.csv --outcome asas40
	sacrum evaluate --predictions test.csv --outcome asas40 --reference clinical --json
	sacrum evaluate --bundle models/dlrc-synthetic --features ext-features.csv --clinical ext/clinical.csv

Research use only.`
}
