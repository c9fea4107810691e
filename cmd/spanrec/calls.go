package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spanrec/spanrec"
)

func cmdCalls(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calls", flag.ContinueOnError)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per call (JSON lines)")
	number := fs.String("number", "", "caller or callee number contains this")
	since := fs.String("since", "", "calls that started at or after this time (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "calls that started before this time (RFC 3339 or YYYY-MM-DD)")
	direction := fs.String("direction", "", "inbound, outbound, internal or unknown")
	status := fs.String("status", "", "answered, no-answer, busy, cancelled or failed")
	hangup := fs.String("hangup-by", "", "who ended the call: caller, callee, system or unknown")
	minPDD := fs.Duration("min-pdd", 0, "post-dial delay at least this (e.g. 2s); calls without one are left out")
	maxPDD := fs.Duration("max-pdd", 0, "post-dial delay at most this (e.g. 500ms)")
	sort := fs.String("sort", "-start", "order by "+strings.Join(spanrec.SortKeys, ", ")+"; a leading - for descending")
	limit := fs.Int("limit", 100, "at most this many calls (0: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: calls takes no arguments (got %q)", errUsage, pos[0])
	}
	f := spanrec.CallFilter{Number: *number, Limit: *limit, MinPDD: *minPDD, MaxPDD: *maxPDD}
	if !slices.Contains(spanrec.SortKeys, strings.TrimPrefix(*sort, "-")) {
		return fmt.Errorf("%w: --sort %q: want one of %s, with a leading - for descending", errUsage, *sort, strings.Join(spanrec.SortKeys, ", "))
	}
	f.Sort = *sort
	switch *hangup {
	case "", string(spanrec.HangupCaller), string(spanrec.HangupCallee), string(spanrec.HangupSystem), "unknown":
		f.HangupBy = *hangup
	default:
		return fmt.Errorf("%w: --hangup-by %q: want caller, callee, system or unknown", errUsage, *hangup)
	}
	if *minPDD < 0 || *maxPDD < 0 {
		return fmt.Errorf("%w: --min-pdd and --max-pdd must not be negative", errUsage)
	}
	if f.Since, err = parseTime(*since); err != nil {
		return fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if f.Until, err = parseTime(*until); err != nil {
		return fmt.Errorf("%w: --until: %v", errUsage, err)
	}
	switch d := spanrec.Direction(*direction); d {
	case "", spanrec.Inbound, spanrec.Outbound, spanrec.Internal, spanrec.Unknown:
		f.Direction = d
	default:
		return fmt.Errorf("%w: --direction %q: want inbound, outbound, internal or unknown", errUsage, *direction)
	}
	switch s := spanrec.Status(*status); s {
	case "", spanrec.Answered, spanrec.NoAnswer, spanrec.Busy, spanrec.Cancelled, spanrec.Failed:
		f.Status = s
	default:
		return fmt.Errorf("%w: --status %q: want answered, no-answer, busy, cancelled or failed", errUsage, *status)
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit must not be negative", errUsage)
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
	calls, err := db.Calls(ctx, f)
	if err != nil {
		return err
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
		fmt.Fprintln(stderr, "no calls match")
	}
	return nil
}

// parseTime accepts RFC 3339 or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-01T09:00:00Z) nor a date (2026-11-01)", s)
}

// pddText formats a post-dial delay to the millisecond; "-" if not measured.
func pddText(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

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
