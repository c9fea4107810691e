package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/sqlite"
)

func cmdImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var c common
	c.register(fs)
	noProgress := fs.Bool("no-progress", false, "do not draw the progress bar")
	shardsFlag(fs)
	keysFlag(fs)
	signallessFlag(fs)
	sensorFlag(fs)
	serveAddr := fs.String("serve", "", "after the import, serve the web UI and API at ADDR (e.g. 127.0.0.1:8080) until stopped")
	firstAdmin := fs.String("first-admin", "", "with --serve: when no account exists, create this admin with a generated password (printed once)")
	poll := fs.Duration("poll", 2*time.Second, "with --serve: how often the live view looks for newly indexed calls")
	store := storeFlag(fs, "central object store the calls' files are shipped to, with a central --index postgres://…")
	shipWait := fs.Duration("ship-timeout", time.Minute, "with a central --index postgres://…: how long to ship the calls at the end before leaving the rest in the outbox")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: import takes one capture file (or - for standard input)", errUsage)
	}
	if *poll <= 0 {
		return fmt.Errorf("%w: --poll must be positive", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	// A central index (and store) is shipped to at the end; the calls go
	// to the data directory's own index first, as always.
	central, err := e.central(fs, *store)
	if err != nil {
		return err
	}
	if *shipWait <= 0 {
		return fmt.Errorf("%w: --ship-timeout must be positive", errUsage)
	}
	lock, err := e.lockWriter("spanrec import")
	if err != nil {
		return err
	}
	defer lock.Close()
	path := pos[0]
	var src capture.Source
	if path == "-" {
		src, err = capture.NewReader(stdin)
	} else {
		src, err = capture.OpenFile(path)
	}
	if err != nil {
		return err
	}
	defer src.Close()

	db, err := e.openIndex(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()

	var size int64 = -1
	if path != "-" {
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
	}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && !*noProgress && isatty.IsTerminal(f.Fd()) {
		bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	progress := func(p recorder.Progress) {
		if bar == nil {
			return
		}
		bar.Describe(fmt.Sprintf("importing: %d packets, %d calls", p.Frames, p.Calls))
		if p.Bytes > 0 {
			_ = bar.Set64(p.Bytes)
		}
	}
	shards, err := e.cfg.shards(fs)
	if err != nil {
		return err
	}
	if err := e.cfg.signalless(fs); err != nil {
		return err
	}
	if err := e.cfg.sensor(fs); err != nil {
		return err
	}
	ks, err := loadKeys(e.cfg.keysPath(fs), e.log)
	if err != nil {
		return err
	}
	cfg := recorder.Config{
		Call:   e.cfg.callConfig(e.dataDir),
		Packet: e.cfg.packetConfig(),
		Shards: shards,
		Memory: e.cfg.Limits.Memory.Bytes,
		Locked: true,
		Logger: e.log,
		Keys:   ks,
	}
	// With a central side, the disk guard deletes only calls shipped and
	// verified there (none until it is reached); the calls go at the end.
	var (
		sh    *ship.Shipper
		local *sqlite.DB
	)
	if central.index != "" {
		var ok bool
		if local, ok = db.(*sqlite.DB); !ok {
			return fmt.Errorf("the outbox needs the data directory's SQLite index")
		}
		var closeCentral func()
		sh, closeCentral = e.newShipper(local, central)
		defer closeCentral()
		e.archive = sh
	}
	// The disk guard runs while the import writes (retention.min_free):
	// below it the oldest recordings go, and when none may, new calls
	// are indexed without audio.
	disk := &limits.Disk{}
	cfg.Call.Disk = disk
	sw, err := e.sweeper(ctx, db, disk)
	if err != nil {
		return err
	}
	if _, err := sw.Guard(ctx); err != nil {
		e.log.Error("disk guard", "err", err)
	}
	guardCtx, stopGuard := context.WithCancel(ctx)
	guarded := make(chan struct{})
	go func() {
		defer close(guarded)
		_ = sw.RunGuard(guardCtx)
	}()
	// Calls a recorder left unfinished in this data directory (killed)
	// are written first; each is logged.
	if _, err := recorder.Recover(ctx, cfg, db, nil); err != nil {
		e.log.Error("recover interrupted calls", "err", err)
	}
	sum, err := recorder.Import(ctx, cfg, src, db, progress)
	stopGuard()
	<-guarded
	if _, gerr := sw.Guard(ctx); gerr != nil {
		e.log.Error("disk guard", "err", gerr)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	printSummary(stdout, path, e.dataDir, sum)
	if n := sum.Assembler.DiskFull; n > 0 {
		fmt.Fprintf(stderr, "DISK FULL: %d calls were indexed WITHOUT AUDIO: the data directory's file system is below retention.min_free and no recording may be deleted\n", n)
	}
	if sh != nil {
		e.shipImported(ctx, sh, central, *shipWait, stdout)
	}
	if err != nil {
		return err
	}
	if sum.Frames == 0 && sum.Truncated {
		return fmt.Errorf("%s holds no capture data (empty, or cut before the end of its header)", path)
	}
	if sum.Errors > 0 {
		return fmt.Errorf("%d calls could not be recorded (see the log above)", sum.Errors)
	}
	if *serveAddr == "" {
		return nil
	}
	// Serving reads the data directory as spanrec serve does: another
	// import or a recorder may write it meanwhile, and the live view
	// shows what they index.
	lock.Close()
	if *firstAdmin != "" {
		if err := ensureFirstAdmin(ctx, db, *firstAdmin, e.dataDir, stdout); err != nil {
			return err
		}
	}
	hc := e.cfg.HTTP
	hc.Listen = *serveAddr
	w, err := newWeb(ctx, e, db, hc, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Stop with Ctrl-C.")
	return w.runWatching(ctx, db, *poll)
}

// printTLS prints what was seen of SIP over TLS, if anything.
func printTLS(w io.Writer, t recorder.TLSStats) {
	if t.Connections == 0 {
		return
	}
	fmt.Fprintf(w, "  SIP over TLS        %d connections, %d decrypted with the key log\n", t.Connections, t.Decrypted)
	if t.NoKeys > 0 {
		fmt.Fprintf(w, "                      %d TLS connections on 5061 without keys (their calls cannot be followed; see --keys)\n", t.NoKeys)
	}
	if t.Joined > 0 {
		fmt.Fprintf(w, "                      %d joined after their handshake (no client random to find keys by)\n", t.Joined)
	}
	if t.Unsupported > 0 {
		fmt.Fprintf(w, "                      %d of a TLS version or cipher suite not supported\n", t.Unsupported)
	}
	if t.NotSIP > 0 {
		fmt.Fprintf(w, "                      %d decrypted but not SIP\n", t.NotSIP)
	}
	if t.AuthFailures > 0 {
		fmt.Fprintf(w, "                      %d records failed authentication (wrong key or lost bytes): decryption stopped\n", t.AuthFailures)
	}
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func printSummary(w io.Writer, path, dataDir string, s recorder.Summary) {
	p := s.Packet
	fmt.Fprintf(w, "Imported %s in %s\n", path, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  packets read        %d", s.Frames)
	if s.Truncated {
		fmt.Fprint(w, " (the file ends in the middle of a packet: it was cut short)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  duplicates dropped  %d (the same packet copied from two mirrored ports)\n", p.Duplicates)
	fmt.Fprintf(w, "  malformed skipped   %d (truncated or invalid headers)\n", p.Truncated)
	fmt.Fprintf(w, "  not IP/UDP/TCP      %d\n", p.NonIP)
	if p.UnsupportedLink > 0 {
		links := slices.Sorted(maps.Keys(p.UnsupportedLinks))
		var each []string
		for _, l := range links {
			each = append(each, fmt.Sprintf("link type %d: %d frames", l, p.UnsupportedLinks[l]))
		}
		fmt.Fprintf(w, "  unsupported link    %d frames not decoded (%s)\n", p.UnsupportedLink, strings.Join(each, ", "))
	}
	if s.BadTime > 0 {
		fmt.Fprintf(w, "  bad capture time    %d packets skipped (their time is far from the capture's, see docs/SECURITY.md)\n", s.BadTime)
	}
	fmt.Fprintf(w, "  SIP messages        %d (%d not parseable)\n", s.SIP, s.SIPErrors)
	printTLS(w, s.TLS)
	fmt.Fprintf(w, "  calls found         %d\n", s.Assembler.Calls)
	if s.Assembler.Signalless > 0 {
		fmt.Fprintf(w, "  signalless calls    %d (RTP with no SIP seen for it, paired by addresses; see their notes)\n", s.Assembler.Signalless)
	}
	fmt.Fprintf(w, "  calls recorded      %d (%d with audio, %d without audio)\n", s.Calls, s.WithAudio, s.WithoutAudio)
	fmt.Fprintf(w, "  RTP streams         %d (%d with a codec not decodable yet), %d packets lost\n", s.Streams, s.Undecodable, s.Lost)
	if s.Encrypted > 0 {
		fmt.Fprintf(w, "  encrypted streams   %d in %d calls: %d decrypted, %d not decryptable (%d calls; see their notes)\n",
			s.Encrypted, s.EncryptedCalls, s.Decrypted, s.Undecryptable, s.UndecryptableCalls)
		if a := s.Assembler; a.SRTPAuthFailures > 0 || a.SRTCPAuthFailures > 0 {
			fmt.Fprintf(w, "                      %d SRTP and %d SRTCP packets failed authentication (wrong or missing key, or damaged): not decoded\n",
				a.SRTPAuthFailures, a.SRTCPAuthFailures)
		}
	}
	fmt.Fprintf(w, "  RTP without a call  %d packets (no SIP/SDP seen for them)\n", s.Assembler.Unassigned)
	if s.Assembler.MalformedRTCP > 0 {
		fmt.Fprintf(w, "  malformed RTCP      %d\n", s.Assembler.MalformedRTCP)
	}
	if s.Assembler.MalformedRTP > 0 {
		fmt.Fprintf(w, "  malformed RTP       %d\n", s.Assembler.MalformedRTP)
	}
	if s.SIPTooLarge > 0 {
		fmt.Fprintf(w, "  SIP too large       %d messages over TCP larger than %d KiB dropped\n", s.SIPTooLarge, sipmsg.DefaultMaxMessage>>10)
	}
	if a := s.Assembler; a.TooLong > 0 || a.BeyondAudio > 0 {
		fmt.Fprintf(w, "  max duration        %d calls closed at calls.max_duration, %d RTP payloads placed past it not spooled\n", a.TooLong, a.BeyondAudio)
	}
	m := s.Memory
	fmt.Fprintf(w, "  memory budget       peak %s of %s (limits.memory)", mib(m.Peak), mib(m.Limit))
	if m.Evictions() > 0 {
		fmt.Fprintf(w, "; over it, evicted the oldest: %d TCP messages, %d held media flows, %d calls (closed early, still written), and stopped %d streams' quality series early (noted on their calls)",
			m.Kinds[limits.TCP].Evictions, m.Kinds[limits.HeldMedia].Evictions, m.Kinds[limits.Calls].Evictions, m.Kinds[limits.Series].Evictions)
	}
	fmt.Fprintln(w)
	if n := s.Assembler.SeriesSkipped; n > 0 {
		fmt.Fprintf(w, "  quality series      %d RTP streams kept none: past the first streams (SSRCs) of their call (noted on it)\n", n)
	}
	if rss := peakRSS(); rss > 0 {
		fmt.Fprintf(w, "  process memory      peak RSS %s\n", mib(rss))
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, "  errors              %d calls could not be written\n", s.Errors)
	}
	fmt.Fprintf(w, "Data directory: %s  (list the calls: %s calls --data %s)\n", dataDir, prog, dataDir)
}
