package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spanrec/spanrec"
)

// unindexedScan is how many calls a search no index serves examines
// (CallFilter.ScanLimit); tests lower it.
var unindexedScan = spanrec.MaxUnindexedScan

func cmdCalls(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calls", flag.ContinueOnError)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per call (JSON lines)")
	limit := fs.Int("limit", 100, "at most this many calls (0: all)")
	scanAll := fs.Bool("scan-all", false, fmt.Sprintf("a search no index serves (a number, user agent, note or header text of fewer than 3 characters) "+
		"examines every call of its time range, not only the newest %d (minutes on millions of calls)", unindexedScan))
	var f spanrec.CallFilter
	filterFlags(fs, &f)
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: calls takes no arguments (got %q)", errUsage, pos[0])
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must not be negative", errUsage)
	}
	f.Limit = *limit
	if err := f.Check(); err != nil {
		return fmt.Errorf("%w: %v (--since/--until, --min-duration/--max-duration)", errUsage, err)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if !*scanAll {
		f.ScanLimit = unindexedScan
	}
	stop, err := db.SearchStop(ctx, f)
	if err != nil {
		return err
	}
	calls, err := db.Calls(ctx, f)
	if err != nil {
		return err
	}
	if stop != nil {
		// Before the calls, so that a reader of a long list sees it; on
		// stderr, so that --json's lines stay JSON.
		fmt.Fprintf(stderr, "%s: searched only the newest %d calls: %s; type more, narrow the time range (--since, --until) or give --scan-all\n",
			prog, stop.Examined, stop.Reason)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, c := range calls {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTART (UTC)\tCALLER\tCALLEE\tDIRECTION\tSTATUS\tHANGUP\tPDD\tDURATION\tCODECS\tMOS\tNOTES")
	for _, c := range calls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			c.ID, c.Start.UTC().Format("2006-01-02 15:04:05"), orDash(c.Caller.Number), orDash(c.Callee.Number),
			c.Direction, statusText(c), orDash(string(c.HangupBy)), pddText(c.PDD), c.Duration.Round(time.Second),
			orDash(strings.Join(c.Codecs, ",")), mosText(c), flags(c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(calls) == 0 {
		if stop != nil {
			fmt.Fprintf(stderr, "no calls match among the newest %d\n", stop.Examined)
		} else {
			fmt.Fprintln(stderr, "no calls match")
		}
	}
	return nil
}

// filterFlags registers on fs the search flags of spanrec calls: the
// search terms of GET /api/calls (spanrec.FilterParams, '_' spelt '-'),
// parsed into f by the same spanrec.CallFilter.Set, with the API's from
// and to named --since and --until.
func filterFlags(fs *flag.FlagSet, f *spanrec.CallFilter) {
	for _, p := range spanrec.FilterParams {
		name, help := strings.ReplaceAll(p, "_", "-"), filterHelp[p]
		switch p {
		case "from":
			name = "since"
		case "to":
			name = "until"
		}
		fs.Var(filterFlag{f, p}, name, help)
	}
}

// filterHelp describes each search flag, as the OpenAPI document describes
// the API's parameter.
var filterHelp = map[string]string{
	"from":         "calls that started at or after this `time`: RFC 3339, a date (2026-11-01) or a date and time in UTC (2026-11-01T09:00)",
	"to":           "calls that started before this `time` (formats as --since)",
	"number":       "caller or callee number contains this",
	"direction":    "inbound, outbound, internal or unknown",
	"status":       "answered, no-answer, busy, cancelled, failed or ongoing",
	"min_duration": "talk time at least this: `seconds` or a duration (90, 1m30s)",
	"max_duration": "talk time at most this: `seconds` or a duration",
	"codec":        "calls that used this codec (PCMU, PCMA, G722, …; any case)",
	"has_loss":     "only calls with RTP packets lost in capture (--has-loss=false: only calls without)",
	"signalling":   "sip, or none for calls found as RTP alone",
	"interaction":  "the legs of one conversation: calls whose interaction is this call `ID`",
	"group":        "interaction: one row per conversation (its earliest matching leg)",
	"tag":          "calls that carry this `tag` (any case)",
	"note":         "calls with a note that contains this `text` (any case)",
	"status_code":  "calls whose final SIP answer had this `code` (100-699)",
	"hangup_by":    "calls ended by caller, callee, system or unknown",
	"min_pdd":      "post-dial delay at least this: `seconds` or a duration (2s); calls without one are left out",
	"max_pdd":      "post-dial delay at most this: `seconds` or a duration (500ms)",
	"min_ring":     "ring time at least this: `seconds` or a duration",
	"max_ring":     "ring time at most this: `seconds` or a duration",
	"sort":         "by a column: " + strings.Join(spanrec.SortKeys, ", ") + "; a leading - for descending (default -start)",
}

// pddText formats a post-dial delay to the millisecond; "-" if not measured.
func pddText(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

// filterFlag is one search flag: its value goes to CallFilter.Set.
type filterFlag struct {
	f     *spanrec.CallFilter
	param string
}

func (v filterFlag) String() string { return "" }

func (v filterFlag) Set(s string) error { return v.f.Set(v.param, s) }

// IsBoolFlag makes --has-loss mean --has-loss=true.
func (v filterFlag) IsBoolFlag() bool { return v.param == "has_loss" }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statusText(c *spanrec.Call) string {
	if c.Status == spanrec.Failed && c.StatusCode != 0 {
		return fmt.Sprintf("failed(%d)", c.StatusCode)
	}
	return string(c.Status)
}

func mosText(c *spanrec.Call) string {
	low := 0.0
	for _, s := range c.Streams {
		if s.MOS > 0 && (low == 0 || s.MOS < low) {
			low = s.MOS
		}
	}
	if low == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", low)
}

func flags(c *spanrec.Call) string {
	var f []string
	if c.Audio == "" {
		f = append(f, "no-audio")
	}
	if c.CaptureLoss {
		f = append(f, "loss")
	}
	for _, n := range c.Notes {
		if strings.HasPrefix(n, "one-way") {
			f = append(f, "one-way")
		}
	}
	if len(c.DTMF) > 0 {
		f = append(f, "dtmf")
	}
	return strings.Join(f, ",")
}
