package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/admin"
)

// StatusCommand shows the study queue, from the running node's admin API or, when no node answers,
// read-only from the database file.
type StatusCommand struct {
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time // for ages (tests); nil = time.Now
}

// Run prints the summary and the table (or JSON).
func (c *StatusCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "configuration file (for admin.listen and store.data_dir)")
	asJSON := fs.Bool("json", false, "print JSON for machines")
	adminAddr := fs.String("admin", "", "admin HTTP address of the running node (admin.listen)")
	dataDir := fs.String("data-dir", "", "data directory, read when the node is not running (store.data_dir)")
	state := fs.String("state", "", "only studies in this state")
	if err := parseFlags(fs, args, "sacrum status", true); err != nil {
		return err
	}
	var st store.State
	if *state != "" {
		s, err := store.ParseState(strings.ToUpper(*state))
		if err != nil {
			return usageError("sacrum status: --state: %v", err)
		}
		st = s
	}
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["admin"] {
		*adminAddr = cfg.Admin.Listen
	}
	if !set["data-dir"] {
		*dataDir = cfg.Store.DataDir
	}

	var sum *store.Summary
	switch {
	case set["admin"]:
		sum, err = fromAPI(ctx, *adminAddr, st)
	case set["data-dir"]:
		// The database first; a running node holds it locked, then ask its API.
		sum, err = fromDB(*dataDir, st)
		if err != nil {
			var apiErr error
			if sum, apiErr = fromAPI(ctx, *adminAddr, st); apiErr != nil {
				err = fmt.Errorf("%w; and the admin API: %v", err, apiErr)
			} else {
				err = nil
			}
		}
	default:
		sum, err = fromAPI(ctx, *adminAddr, st)
		if err != nil {
			var dbErr error
			if sum, dbErr = fromDB(*dataDir, st); dbErr != nil {
				err = fmt.Errorf("%w; and the database: %v", err, dbErr)
			} else {
				err = nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("sacrum status: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return writeStatusTable(c.Stdout, sum, now())
}

// fromAPI asks the running node.
func fromAPI(ctx context.Context, addr string, st store.State) (*store.Summary, error) {
	u := "http://" + addr + "/api/v1/studies"
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		u = strings.TrimSuffix(addr, "/") + "/api/v1/studies"
	}
	if st != "" {
		u += "?state=" + url.QueryEscape(string(st))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("admin API at %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	var sum store.Summary
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		return nil, fmt.Errorf("admin API at %s: %w", addr, err)
	}
	return &sum, nil
}

// fromDB reads the database file read-only.
func fromDB(dir string, st store.State) (*store.Summary, error) {
	r, err := store.OpenReader(dir, time.Second)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Summary(st, false)
}

func writeStatusTable(w io.Writer, sum *store.Summary, now time.Time) error {
	var parts []string
	total := 0
	for _, s := range store.States {
		total += sum.Counts[s]
		if n := sum.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if total == 0 {
		parts = append(parts, "no studies")
	}
	fmt.Fprintf(w, "%d studies: %s\n\n", total, strings.Join(parts, ", "))
	if len(sum.Studies) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY UID\tACCESSION\tSTATE\tINSTANCES\tATTEMPTS\tAGE\tRESULTS\tLAST ERROR")
	for _, s := range sum.Studies {
		delivered := 0
		for _, r := range s.Results {
			if r.Delivered {
				delivered++
			}
		}
		results := "-"
		if len(s.Results) > 0 {
			results = fmt.Sprintf("%d/%d sent", delivered, len(s.Results))
		}
		lastErr := s.LastError
		if len(lastErr) > 120 {
			lastErr = lastErr[:117] + "..."
		}
		if lastErr == "" {
			lastErr = "-"
		}
		acc := s.Accession
		if acc == "" {
			acc = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.StudyUID, acc, s.State, s.Instances, s.Attempts,
			admin.Age(now.Sub(s.FirstReceived)), results, lastErr)
	}
	return tw.Flush()
}

// Usage describes the command.
func (c *StatusCommand) Usage() string {
	return `Show the study queue: counts by state and one line per study (accession number, state,
instances, attempts and last error of the current stage, age, result objects sent). Reads the
running node's admin API, or the database file read-only when the node is not running.
Patient names are never printed.

Usage:

	sacrum status [--json] [--admin ADDR] [--data-dir DIR] [--state STATE] [--config FILE]

Flags:

	--admin ADDR      admin HTTP address of the node (admin.listen, default 127.0.0.1:8080)
	--data-dir DIR    data directory holding sacrum.db (store.data_dir, default ./data);
	                  given alone, the database is read first
	--state STATE     only RECEIVING, COMPLETE, QUEUED, PROCESSING, REPORTED, DELIVERED,
	                  RETRYING, FAILED or CANCELLED studies
	--json            {"counts": {...}, "studies": [{"study_uid", "accession", "state", "instances",
	                  "attempts", "last_error", "results": [{"sop_class_uid", "sop_instance_uid",
	                  "delivered"}], ...}]}
	--config FILE     configuration file

Examples:

	sacrum status
	sacrum status --state FAILED
	sacrum status --data-dir /var/lib/sacrum --json
`
}
