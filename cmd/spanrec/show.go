package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the call as JSON")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: show takes one call ID (or a unique prefix of one)", errUsage)
	}
	id := strings.ToLower(pos[0]) // IDs are lower-case hex
	if len(id) < spanrec.MinIDPrefix {
		return fmt.Errorf("%w: show: %q is too short: give a call ID or at least its first %d characters ('%s calls' lists the IDs)",
			errUsage, pos[0], spanrec.MinIDPrefix, prog)
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
	call, err := db.Call(ctx, spanrec.CallID(id))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(call)
	}
	printCall(stdout, e.dataDir, call)
	return nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func printCall(w io.Writer, dataDir string, c *spanrec.Call) {
	party := func(p spanrec.Party) string {
		s := orDash(p.Number)
		if p.Name != "" {
			s += fmt.Sprintf(" (%s)", p.Name)
		}
		if p.Addr.IsValid() {
			s += " at " + p.Addr.String()
		}
		return s
	}
	fmt.Fprintf(w, "Call %s\n", c.ID)
	fmt.Fprintf(w, "  SIP Call-ID  %s\n", c.SIPCallID)
	fmt.Fprintf(w, "  caller       %s\n", party(c.Caller))
	fmt.Fprintf(w, "  callee       %s\n", party(c.Callee))
	fmt.Fprintf(w, "  direction    %s\n", c.Direction)
	fmt.Fprintf(w, "  status       %s\n", statusText(c))
	fmt.Fprintf(w, "  start        %s\n", ts(c.Start))
	fmt.Fprintf(w, "  answer       %s\n", ts(c.Answer))
	fmt.Fprintf(w, "  end          %s\n", ts(c.End))
	fmt.Fprintf(w, "  talk time    %s\n", c.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "  codecs       %s\n", orDash(strings.Join(c.Codecs, ", ")))
	fmt.Fprintf(w, "  sensor       %s\n", orDash(c.Sensor))
	if c.Signalling == spanrec.SignallingNone {
		fmt.Fprintf(w, "  signalling   none seen (RTP paired by its addresses)\n")
	}
	if len(c.Legs) > 0 {
		fmt.Fprintf(w, "  interaction  %s, other legs %s\n", c.Interaction, joinIDs(c.Legs))
	}
	for _, cp := range c.Copies {
		sides := make([]string, len(cp.Sides))
		for i, s := range cp.Sides {
			sides[i] = string(s)
		}
		fmt.Fprintf(w, "  copy         %s from sensor %s: audio of %s, %d packets\n",
			cp.ID, orDash(cp.Sensor), orDash(strings.Join(sides, " and ")), cp.Packets)
	}
	if len(c.Tags) > 0 {
		fmt.Fprintf(w, "  tags         %s\n", strings.Join(c.Tags, ", "))
	}
	if h := c.LegalHold; h != nil {
		fmt.Fprintf(w, "  legal hold   by %s at %s", h.By, ts(h.At))
		if h.Reason != "" {
			fmt.Fprintf(w, ": %s", h.Reason)
		}
		fmt.Fprintln(w)
	}
	for _, h := range c.Holds {
		fmt.Fprintf(w, "  on hold      %s sends nothing from %s to %s\n", h.Side, ts(h.Start), ts(h.End))
	}
	if c.Audio != "" {
		fmt.Fprintf(w, "  audio        %s (%s, sha256 %s)\n", filepath.Join(dataDir, c.Audio),
			(time.Duration(c.AudioMS) * time.Millisecond).String(), c.AudioSHA256)
	} else {
		fmt.Fprintf(w, "  audio        none\n")
	}
	if c.PCAP != "" {
		fmt.Fprintf(w, "  pcap         %s (sha256 %s)\n", filepath.Join(dataDir, c.PCAP), c.PCAPSHA256)
	}
	if len(c.DTMF) > 0 {
		fmt.Fprintf(w, "  DTMF\n")
		for _, d := range c.DTMF {
			fmt.Fprintf(w, "    %s  %-5s %-6s %s\n", ts(d.At), d.Digit, d.Side, d.Source)
		}
	}
	if len(c.Streams) > 0 {
		fmt.Fprintf(w, "  RTP streams\n")
		fmt.Fprintf(w, "    %-10s %-6s %-22s %-22s %-8s %7s %6s %9s %5s\n", "SSRC", "SIDE", "FROM", "TO", "CODEC", "PACKETS", "LOST", "JITTER", "MOS")
		for _, s := range c.Streams {
			codec := s.Codec
			if codec == "" {
				codec = fmt.Sprintf("pt%d", s.PayloadType)
			}
			fmt.Fprintf(w, "    0x%08X %-6s %-22s %-22s %-8s %7d %6d %7.2fms %5.2f%s\n",
				s.SSRC, s.Side, s.Src, s.Dst, codec, s.Packets, s.Lost, s.JitterMS, s.MOS, encryptionText(s))
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// joinIDs lists call IDs separated by commas.
func joinIDs(ids []spanrec.CallID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}

// encryptionText says, after a stream's figures, how its media was
// encrypted and whether it was decrypted; "" for plain RTP.
func encryptionText(s spanrec.Stream) string {
	if s.Encryption == spanrec.Plain {
		return ""
	}
	t := "  " + string(s.Encryption)
	if s.Decoded {
		t += ", decrypted"
	} else {
		t += ", not decrypted"
	}
	if s.AuthFailures > 0 {
		t += fmt.Sprintf(", %d failed authentication", s.AuthFailures)
	}
	return t
}
