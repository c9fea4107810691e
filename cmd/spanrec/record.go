package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// listFlag is a repeatable string flag (-i eth1 -i eth2).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// cmdRecord records calls from mirror ports until SIGINT or SIGTERM
// (exit 0); SIGHUP reloads the configuration and reopens the log file.
func cmdRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var c common
	c.register(fs)
	var ifaces listFlag
	fs.Var(&ifaces, "i", "interface to record from (the mirror port); repeat for several")
	fs.Var(&ifaces, "interface", "same as -i")
	ringMB := fs.Int("ring-mb", 0, "capture ring per socket, MiB (default 64)")
	fanout := fs.Int("fanout", 0, "capture sockets per interface (PACKET_FANOUT, hash+defrag); 0 or 1: one")
	snaplen := fs.Int("snaplen", 0, "bytes kept of each frame (default: all)")
	udpPorts := fs.String("filter-udp-ports", "", "keep only UDP with a port in these ranges, e.g. 5060,10000-20000")
	tcpPorts := fs.String("filter-tcp-ports", "", "keep only TCP with a port in these ranges, e.g. 5060-5061")
	hosts := fs.String("filter-hosts", "", "keep only packets from or to these hosts/networks (CIDR, comma-separated)")
	listen := fs.String("listen", "", "also serve the web UI and API at ADDR while recording (e.g. 127.0.0.1:8080)")
	cert := fs.String("tls-cert", "", "with --listen: TLS certificate file, PEM (default: config http.tls_cert)")
	key := fs.String("tls-key", "", "with --listen: TLS private key file, PEM (default: config http.tls_key)")
	metrics := fs.String("metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9090)")
	noPromisc := fs.Bool("no-promisc", false, "do not switch the interfaces to promiscuous mode")
	shardsFlag(fs)
	keysFlag(fs)
	signallessFlag(fs)
	sensorFlag(fs)
	statsEvery := fs.Duration("stats-interval", time.Minute, "how often to log per-interface capture statistics")
	store := storeFlag(fs, "central object store the calls' files are shipped to, with a central --index postgres://…")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: record takes no arguments (the interfaces go with -i)", errUsage)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	lf := &logFile{}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	if e.cfg.LogFile != "" {
		if err := lf.open(e.cfg.LogFile); err != nil {
			return err
		}
		defer lf.close()
		if e.log, err = c.logger(lf); err != nil {
			return err
		}
	}
	log := e.log
	// A central index (and store): the calls go to the data directory's
	// own index and files first (the outbox), and a Shipper sends them on.
	central, err := e.central(fs, *store)
	if err != nil {
		return err
	}

	// Flags override the configuration file.
	cc := e.cfg.Capture
	if len(ifaces) == 0 {
		ifaces = cc.Interfaces
	}
	if len(ifaces) == 0 {
		return fmt.Errorf("%w: record needs an interface: -i IF (or capture.interfaces in the configuration)", errUsage)
	}
	if set["ring-mb"] {
		cc.RingMB = *ringMB
	}
	if set["fanout"] {
		cc.Fanout = *fanout
	}
	if set["snaplen"] {
		cc.Snaplen = *snaplen
	}
	if set["filter-udp-ports"] {
		cc.Filter.UDPPorts = *udpPorts
	}
	if set["filter-tcp-ports"] {
		cc.Filter.TCPPorts = *tcpPorts
	}
	if set["filter-hosts"] {
		cc.Filter.Hosts = strings.Split(*hosts, ",")
	}
	if set["metrics-listen"] {
		e.cfg.MetricsListen = *metrics
	}
	if *noPromisc {
		f := false
		cc.Promiscuous = &f
	}
	filter, err := cc.filter()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if cc.RingMB < 0 || cc.Fanout < 0 || cc.Fanout > 64 || cc.Snaplen < 0 {
		return fmt.Errorf("%w: ring-mb and snaplen must not be negative, fanout must be 0..64", errUsage)
	}

	// A mirror port must only receive: say so loudly when it might not.
	for _, ifc := range ifaces {
		ws, err := capture.CheckReceiveOnly(ifc)
		if err != nil {
			return err
		}
		for _, w := range ws {
			fmt.Fprintf(stderr, "WARNING: %s: %s\n  make it receive-only: %s\n", w.Interface, w.Problem, strings.Join(w.Fix, " && "))
			log.Warn("capture interface is not receive-only", "iface", w.Interface, "problem", w.Problem, "fix", strings.Join(w.Fix, " && "))
		}
	}

	lock, err := e.lockWriter("spanrec record")
	if err != nil {
		return err
	}
	defer lock.Close()
	db, err := e.openIndex(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var sh *ship.Shipper
	if central.index != "" {
		local, ok := db.(*sqlite.DB)
		if !ok {
			return fmt.Errorf("the outbox needs the data directory's SQLite index")
		}
		var closeCentral func()
		sh, closeCentral = e.newShipper(local, central)
		defer closeCentral()
		e.archive, e.shipper = sh, sh
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
	keysPath := e.cfg.keysPath(fs)
	ks, err := loadKeys(keysPath, log)
	if err != nil {
		return err
	}
	if ks == nil {
		// An empty store, so that keys given later (API) are used.
		ks = keys.NewStore(nil)
	}
	e.keys = ks
	cfg := recorder.Config{
		Call:   e.cfg.callConfig(e.dataDir),
		Packet: e.cfg.packetConfig(),
		Shards: shards,
		Memory: e.cfg.Limits.Memory.Bytes,
		Locked: true,
		Logger: log,
		Keys:   ks,
	}
	if n, err := recorder.Recover(ctx, cfg, db, nil); err != nil {
		log.Error("recover interrupted calls", "err", err)
	} else if n > 0 {
		fmt.Fprintf(stdout, "Recovered %d calls interrupted when the recorder last stopped\n", n)
	}

	// Retention and the disk guard (retention.*): deletions a crash
	// interrupted are finished first.
	disk := &limits.Disk{}
	cfg.Call.Disk = disk
	sw, err := e.sweeper(ctx, db, disk)
	if err != nil {
		return err
	}
	e.sweep = sw

	srcs, err := openSources(ifaces, cc, filter)
	if err != nil {
		return err
	}
	live := recorder.NewLive(cfg, srcs, db)
	if sh != nil {
		// Shipping waits while the recorder's packet queue fills: it
		// never takes the CPU the capture needs.
		sh.Busy = live.Busy
	}

	var ui *web
	if *listen != "" {
		hc := e.cfg.HTTP
		hc.Listen = *listen
		if *cert != "" || *key != "" {
			hc.TLSCert, hc.TLSKey = *cert, *key
		}
		if ui, err = newWeb(ctx, e, db, hc, stdout); err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return fmt.Errorf("web UI: %w", err)
		}
	}

	var srv *http.Server
	if addr := e.cfg.MetricsListen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_ = live.WriteMetrics(w)
			_ = sw.WriteMetrics(w)
			if sh != nil {
				_ = sh.WriteMetrics(w)
			}
		}))
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		background(runCtx, reloader(c.config, fs), e.dataDir, lf, live, *statsEvery, log, func(cfg *fileConfig) {
			p := keysPath
			if f := fs.Lookup("keys"); f == nil || f.Value.String() == "" {
				p = cfg.Keys.File
			}
			reloadKeys(p, ks, log)
		})
	}()
	bg.Add(1)
	go func() {
		defer bg.Done()
		_ = sw.Run(runCtx)
	}()
	// The Shipper ships once this process holds the data directory's
	// shipping lock (ShipLockFile): a `spanrec ship` of the same
	// directory may hold it; the calls wait in the outbox meanwhile.
	var shipLock atomic.Pointer[dataLock]
	if sh != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			l, err := waitShipping(runCtx, e.dataDir, "spanrec record", func(who lockInfo) {
				log.Warn("ship: another process ships this data directory; this recorder ships once it is done (its calls wait in the outbox meanwhile)", "holder", who.String())
			})
			if err != nil {
				if runCtx.Err() == nil {
					log.Error("ship: the shipping lock cannot be taken; calls are not shipped", "err", err)
				}
				return
			}
			shipLock.Store(l)
			log.Info("shipping calls to the central side", "central", central.String())
			sh.Run(runCtx, shipPoll)
		}()
	}
	if ui != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := ui.run(runCtx); err != nil {
				log.Error("web UI", "err", err)
			}
		}()
	}

	fmt.Fprintf(stdout, "Recording from %s into %s (stop with Ctrl-C or SIGTERM)\n", strings.Join(ifaces, ", "), e.dataDir)
	log.Info("recording", "ifaces", strings.Join(ifaces, ","), "data", e.dataDir, "ring_mb", cmp.Or(cc.RingMB, capture.DefaultRingMB), "fanout", max(cc.Fanout, 1), "filter", !filter.IsZero())
	err = live.Run(ctx, func(ev recorder.Event) {
		c := ev.Call
		if ui != nil {
			switch ev.Kind {
			case recorder.CallStarted:
				ui.srv.Events().Publish(api.Event{Type: api.EventStart, Call: c})
			case recorder.CallAnswered:
				ui.srv.Events().Publish(api.Event{Type: api.EventAnswer, Call: c})
			case recorder.CallUpdated:
				ui.srv.Events().Publish(api.Event{Type: api.EventUpdate, Call: c})
			case recorder.CallRecorded, recorder.CallRecovered:
				ui.srv.Events().Publish(api.Event{Type: api.EventEnd, Call: c})
			case recorder.CallFailed:
				ui.srv.Events().Publish(api.Event{Type: api.EventFailed, Call: c})
			}
		}
		if sh != nil && (ev.Kind == recorder.CallRecorded || ev.Kind == recorder.CallRecovered) {
			sh.Notify()
		}
		switch ev.Kind {
		case recorder.CallRecorded:
			log.Info("call recorded", "id", c.ID, "call_id", c.SIPCallID, "caller", c.Caller.Number, "callee", c.Callee.Number,
				"status", c.Status, "duration", c.Duration, "audio", c.Audio != "", "capture_loss", c.CaptureLoss)
		case recorder.CallFailed:
			log.Error("call not recorded", "id", c.ID, "call_id", c.SIPCallID, "err", ev.Err)
		}
	})
	stopRun()
	bg.Wait()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	if sh != nil {
		l := shipLock.Load()
		var who lockInfo
		if l == nil {
			// Never got it while recording: the other may be done now.
			l, who, _ = lockShipping(e.dataDir, "spanrec record")
		}
		if l != nil {
			e.shipAtEnd(context.Background(), sh, central, finalShipWait, stdout)
			l.Close()
		} else {
			fmt.Fprintf(stdout, "Shipped nothing: %s is shipping %s; the calls recorded here wait in the outbox (run `%s ship --data %s` after it)\n", who, e.dataDir, prog, e.dataDir)
		}
	}
	st := live.Stats()
	logStats(log, st)
	fmt.Fprintf(stdout, "Stopped: %d calls recorded (%d with audio, %d failed)\n", st.CallsRecorded, st.WithAudio, st.CallsFailed)
	for _, s := range st.Sources {
		fmt.Fprintf(stdout, "  %-10s %d packets, %d bytes, kernel drops %d, queue drops %d\n", s.Interface, s.Frames, s.Bytes, s.KernelDrops, s.QueueDrops)
	}
	return err
}

// shipPoll is how often a recorder's Shipper looks for calls to ship
// besides being told of each call recorded.
const shipPoll = 5 * time.Second

// finalShipWait bounds the shipping of the last calls when a recorder
// stops (shipAtEnd).
const finalShipWait = 10 * time.Second

// openSources opens the capture sockets: one per interface, or fanout
// sockets per interface sharing a fanout group of that interface.
func openSources(ifaces []string, cc captureConfig, filter *capture.Filter) ([]capture.Source, error) {
	var srcs []capture.Source
	fail := func(err error) ([]capture.Source, error) {
		for _, s := range srcs {
			s.Close()
		}
		return nil, err
	}
	n := max(cc.Fanout, 1)
	for i, ifc := range ifaces {
		lc := capture.LiveConfig{
			Interface: ifc,
			RingMB:    cc.RingMB,
			Snaplen:   cc.Snaplen,
			NoPromisc: cc.Promiscuous != nil && !*cc.Promiscuous,
			Filter:    filter,
		}
		if n > 1 {
			// Groups are per interface; keep the ids of two recorders
			// (and of our interfaces) apart.
			lc.FanoutGroup = uint16(os.Getpid()*64+i)&0x7fff | 0x8000
		}
		for range n {
			s, err := capture.OpenLive(lc)
			if err != nil {
				return fail(privilegeHint(err))
			}
			srcs = append(srcs, s)
		}
	}
	return srcs, nil
}

// privilegeHint adds to a refused capture socket what it needs: root, or
// the capabilities the systemd unit grants.
func privilegeHint(err error) error {
	if !errors.Is(err, os.ErrPermission) {
		return err
	}
	return fmt.Errorf("%w\n  capturing needs CAP_NET_RAW (the AF_PACKET socket) and CAP_NET_ADMIN (promiscuous mode, fanout):\n"+
		"  run as root, or run the systemd unit deploy/spanrec.service (AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN),\n"+
		"  or grant them to the binary: setcap cap_net_raw,cap_net_admin=ep $(command -v spanrec)", err)
}

// reloader returns the configuration loader of a SIGHUP: the file again,
// with the command line's overrides applied on top, as at start (a flag
// given on the command line keeps winning over the file).
func reloader(configPath string, fs *flag.FlagSet) func() (*fileConfig, string, error) {
	return func() (*fileConfig, string, error) {
		cfg, err := loadConfig(configPath)
		if err != nil {
			return nil, configPath, err
		}
		if err := cfg.signalless(fs); err != nil {
			return nil, configPath, err
		}
		if err := cfg.sensor(fs); err != nil {
			return nil, configPath, err
		}
		return cfg, configPath, nil
	}
}

// background logs the capture statistics every interval and handles
// SIGHUP (reopen the log, reload the configuration with load) until ctx
// is done.
func background(ctx context.Context, load func() (*fileConfig, string, error), dataDir string, lf *logFile, live *recorder.Live, every time.Duration, log *slog.Logger, reload func(*fileConfig)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			logStats(log, live.Stats())
		case <-hup:
			if err := lf.reopen(); err != nil {
				log.Error("reopen log file", "err", err)
			}
			cfg, configPath, err := load()
			if err != nil {
				log.Error("reload configuration: keeping the old one", "err", err)
				continue
			}
			live.Reconfigure(cfg.callConfig(dataDir))
			reload(cfg)
			log.Info("configuration reloaded (networks, call timeouts)", "config", configPath)
		}
	}
}

func logStats(log *slog.Logger, st recorder.LiveStats) {
	for _, s := range st.Sources {
		lv := slog.LevelInfo
		if s.KernelDrops > 0 || s.QueueDrops > 0 {
			lv = slog.LevelWarn
		}
		log.Log(context.Background(), lv, "capture", "iface", s.Interface, "packets", s.Frames, "bytes", s.Bytes,
			"kernel_drops", s.KernelDrops, "ring_full", s.QueueFreezes, "queue_drops", s.QueueDrops, "duplicates", s.Decoder.Duplicates)
	}
	log.Info("calls", "active", st.ActiveCalls, "recorded", st.CallsRecorded, "failed", st.CallsFailed,
		"rtp_lost", st.Lost, "duplicates_across_ports", st.CrossDuplicates)
	if t := st.TLS; t.Connections > 0 {
		log.Info("sip over tls", "connections", t.Connections, "decrypted", t.Decrypted, "no_keys_on_5061", t.NoKeys,
			"joined_after_handshake", t.Joined, "unsupported", t.Unsupported, "auth_failures", t.AuthFailures)
	}
	m := st.Memory
	lv := slog.LevelInfo
	if m.Evictions() > 0 || st.BadTime > 0 || st.SIPTooLarge > 0 {
		lv = slog.LevelWarn
	}
	log.Log(context.Background(), lv, "limits", "memory_bytes", m.Used, "memory_peak_bytes", m.Peak, "memory_limit_bytes", m.Limit,
		"evicted_tcp", m.Kinds[limits.TCP].Evictions, "evicted_held_media", m.Kinds[limits.HeldMedia].Evictions,
		"evicted_calls", m.Kinds[limits.Calls].Evictions, "sip_too_large", st.SIPTooLarge, "bad_time", st.BadTime,
		"calls_max_duration", st.Assembler.TooLong, "quality_series_stopped", m.Kinds[limits.Series].Evictions,
		"quality_series_skipped", st.Assembler.SeriesSkipped)
}

// filter builds the capture filter of the configuration.
func (cc captureConfig) filter() (*capture.Filter, error) {
	f := &capture.Filter{VLAN: cc.Filter.VLAN == nil || *cc.Filter.VLAN}
	var err error
	if f.UDPPorts, err = capture.ParsePortRanges(cc.Filter.UDPPorts); err != nil {
		return nil, fmt.Errorf("capture.filter.udp_ports: %w", err)
	}
	if f.TCPPorts, err = capture.ParsePortRanges(cc.Filter.TCPPorts); err != nil {
		return nil, fmt.Errorf("capture.filter.tcp_ports: %w", err)
	}
	for _, h := range cc.Filter.Hosts {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		p, err := netip.ParsePrefix(h)
		if err != nil {
			a, err2 := netip.ParseAddr(h)
			if err2 != nil {
				return nil, fmt.Errorf("capture.filter.hosts: %q is not an address or CIDR prefix", h)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		f.Hosts = append(f.Hosts, p.Masked())
	}
	if _, err := f.Assemble(0); err != nil {
		return nil, err
	}
	return f, nil
}

// logFile is the log_file the logger writes to; reopen (SIGHUP) closes
// and reopens it, for logrotate.
type logFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func (l *logFile) open(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
	}
	l.path, l.f = path, f
	return nil
}

func (l *logFile) reopen() error {
	if l.path == "" {
		return nil
	}
	return l.open(l.path)
}

func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

func (l *logFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, errors.New("log file closed")
	}
	return l.f.Write(b)
}
