package recorder_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/sqlite"
)

// tlsCalls are SIP over TLS calls of both versions and several suites;
// their SDP (inside TLS) describes plain RTP.
func tlsCalls(log *bytes.Buffer) []pcaptest.Call {
	v12 := func(suite uint16) *pcaptest.TLS {
		return &pcaptest.TLS{Version: tls.VersionTLS12, CipherSuites: []uint16{suite}, KeyLog: log}
	}
	return []pcaptest.Call{
		{Transport: "tls", TLS: &pcaptest.TLS{KeyLog: log}},
		{Transport: "tls", Start: 4 * time.Second, TLS: v12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)},
		{Transport: "tls", Start: 8 * time.Second, TLS: v12(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
			Caller: pcaptest.Endpoint{SIP: mustAddr("fd00::1:1")}, Callee: pcaptest.Endpoint{SIP: mustAddr("fd00::2:1")}},
		{Transport: "tls", Start: 12 * time.Second, TLS: v12(tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)},
		{Transport: "tls", Start: 16 * time.Second, TLS: v12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA), DTMFInfo: "5"},
	}
}

// recordTLS writes a capture of calls, imports it with the key log given
// (nil: none) and the shard count, and returns what the index holds.
func recordTLS(t *testing.T, calls []pcaptest.Call, log []byte, shards int) *synth {
	t.Helper()
	o := pcaptest.Options{Seed: synthSeed, Calls: calls}
	s := &synth{opts: o, pcap: filepath.Join(t.TempDir(), "tls.pcap"), data: t.TempDir()}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.pcap, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	s.exp, s.tones = exp, tonesOf(exp)
	cfg := recorder.Config{Call: call.Config{DataDir: s.data}, Shards: shards}
	if log != nil {
		set, err := keys.Load(bytes.NewReader(log))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys = keys.NewStore(set)
	}
	src, err := capture.OpenFile(s.pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(s.data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if s.sum, err = recorder.Import(context.Background(), cfg, src, db, nil); err != nil {
		t.Fatal(err)
	}
	list, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	s.calls = byCallID(t, list)
	return s
}

// TestSIPOverTLS imports SIP over TLS calls made by crypto/tls (TLS 1.3;
// TLS 1.2 with AES-128-GCM, AES-256-GCM over IPv6, ChaCha20-Poly1305,
// AES-128-CBC-SHA) with the key log crypto/tls wrote: every call is
// recorded as if its SIP were plain, with its tones in the right channels.
// Without the key log no SIP call is recorded, the connections are
// counted, and the RTP becomes signalless calls whose note names the TLS
// seen between the same hosts.
func TestSIPOverTLS(t *testing.T) {
	var log bytes.Buffer
	calls := tlsCalls(&log)
	for _, shards := range []int{1, 2} {
		log.Reset()
		s := recordTLS(t, calls, nil, shards) // writes the key log of the capture
		for _, c := range s.calls {
			if c.Signalling != spanrec.SignallingNone || !slices.ContainsFunc(c.Notes, func(n string) bool {
				return strings.Contains(n, "SIP over TLS (port 5061) was seen between these hosts")
			}) {
				t.Errorf("shards %d, no keys: call %q (signalling %q, notes %q) recorded from encrypted SIP", shards, c.SIPCallID, c.Signalling, c.Notes)
			}
		}
		if len(s.calls) != len(calls) {
			t.Errorf("shards %d, no keys: %d signalless calls, want %d (their RTP)", shards, len(s.calls), len(calls))
		}
		if st := s.sum.TLS; st.Connections != len(calls) || st.NoKeys != len(calls) || st.Decrypted != 0 {
			t.Errorf("shards %d, no keys: TLS stats %+v", shards, st)
		}

		log.Reset()
		s = recordTLS(t, calls, nil, shards)
		keyLog := bytes.Clone(log.Bytes())
		// Import again the same capture, now with its keys.
		s2 := reimport(t, s, keyLog, shards)
		if st := s2.sum.TLS; st.Connections != len(calls) || st.Decrypted != len(calls) || st.AuthFailures != 0 || st.NoKeys != 0 {
			t.Errorf("shards %d: TLS stats %+v", shards, st)
		}
		for i := range s2.exp {
			s2.exp[i].Call.Notes = []string{"SIP over TLS decrypted with the key log"}
		}
		s2.checkAll(t)
		for i := range calls {
			r := s2.checkRecording(t, i, 8000)
			s2.checkTalk(t, i, r)
			if shards == 1 {
				s2.tsharkDecrypts(t, i, keyLog)
			}
		}
	}
}

// tsharkDecrypts checks, when tshark is installed, that it decrypts every
// SIP message of call i from the call's pcapng with the key log: the
// pcapng holds the TLS handshake of both directions, in order.
func (s *synth) tsharkDecrypts(t *testing.T, i int, keyLog []byte) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: not checking that it decrypts the per-call pcapng")
		return
	}
	c := s.call(t, i)
	want := 0
	for _, n := range s.exp[i].Requests {
		want += n
	}
	for _, n := range s.exp[i].Responses {
		want += n
	}
	kf := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(kf, keyLog, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tshark", "-n", "-r", filepath.Join(s.data, filepath.FromSlash(c.PCAP)),
		"-o", "tls.keylog_file:"+kf, "-d", "tcp.port==5061,tls", "-Y", "sip", "-T", "fields", "-e", "sip.Call-ID").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := 0
	for _, l := range strings.Fields(string(out)) {
		for _, id := range strings.Split(l, ",") {
			got++
			if id != c.SIPCallID {
				t.Errorf("%s: tshark finds SIP of call %q", c.PCAP, id)
			}
		}
	}
	if got != want {
		t.Errorf("%s: tshark decrypts %d SIP messages with the key log, want %d", c.PCAP, got, want)
	}
}

// reimport imports s's capture again into a new data directory with the
// key log given.
func reimport(t *testing.T, s *synth, log []byte, shards int) *synth {
	t.Helper()
	n := *s
	n.data = t.TempDir()
	set, err := keys.Load(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	cfg := recorder.Config{Call: call.Config{DataDir: n.data}, Shards: shards, Keys: keys.NewStore(set)}
	src, err := capture.OpenFile(s.pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(n.data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n.sum, err = recorder.Import(context.Background(), cfg, src, db, nil); err != nil {
		t.Fatal(err)
	}
	list, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n.calls = byCallID(t, list)
	return &n
}

// keysLater is a live source that gives the recorder the key log only
// when it reaches frame at (after a pause, so that the worker has handled
// the frames before): keys pushed while recording (SIGHUP, POST
// /api/keys) a moment after the handshake.
type keysLater struct {
	*fakeLive
	at    int
	added bool
	add   func()
}

func (k *keysLater) ReadFrame() (capture.Frame, error) {
	if k.fakeLive.i == k.at && !k.added {
		k.added = true
		time.Sleep(300 * time.Millisecond)
		k.add()
	}
	return k.fakeLive.ReadFrame()
}

// TestLiveTLSKeysLater records a SIP over TLS call live with keys that
// arrive after its handshake and INVITE: the connection's records are
// held and decrypted once the keys come, and the call is recorded whole.
func TestLiveTLSKeysLater(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		var log bytes.Buffer
		calls := []pcaptest.Call{{Transport: "tls", TLS: &pcaptest.TLS{Version: v, KeyLog: &log}}}
		o := pcaptest.Options{Seed: synthSeed, Calls: calls}
		path := filepath.Join(t.TempDir(), "tls.pcap")
		var buf bytes.Buffer
		if err := pcaptest.Write(&buf, o); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		keyLog := bytes.Clone(log.Bytes())
		exp, err := pcaptest.Expected(o)
		if err != nil {
			t.Fatal(err)
		}
		frames := loadFrames(t, path)
		// The first RTP packet: after the 200 OK, before the ACK.
		at := -1
		dec := packet.NewDecoder(packet.Config{})
		for i, fr := range frames {
			p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
			if ok && p.Proto == packet.ProtoUDP && !sipmsg.Looks(p.Payload) {
				at = i
				break
			}
		}
		if at < 0 {
			t.Fatal("no RTP in the capture")
		}
		store := keys.NewStore(nil)
		src := &keysLater{fakeLive: &fakeLive{name: "eth1", frames: frames}, at: at, add: func() {
			set, err := keys.Load(bytes.NewReader(keyLog))
			if err != nil {
				t.Error(err)
				return
			}
			store.Add(set)
		}}
		dir := t.TempDir()
		db := openIndex(t, dir)
		l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096, Keys: store}, []capture.Source{src}, db)
		if err := l.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		got := allCalls(t, db)
		c := got[exp[0].Call.SIPCallID]
		st := l.Stats().TLS
		if c == nil {
			t.Fatalf("TLS %x: call not recorded; TLS stats %+v", v, st)
		}
		if st.Decrypted != 1 || st.NoKeys != 0 || st.AuthFailures != 0 {
			t.Errorf("TLS %x: stats %+v", v, st)
		}
		var mb bytes.Buffer
		if err := l.WriteMetrics(&mb); err != nil || !strings.Contains(mb.String(), `spanrec_tls_connections_total{outcome="decrypted"} 1`) {
			t.Errorf("TLS %x: metrics lack the decrypted connection (%v)", v, err)
		}
		e := &exp[0].Call
		if c.Status != spanrec.Answered || !c.Start.Equal(e.Start) || !c.Answer.Equal(e.Answer) || c.Duration != e.Duration ||
			len(c.Streams) != 2 || c.Audio == "" {
			t.Errorf("TLS %x: call %s start %v answer %v duration %v, %d streams, audio %q; want %s %v %v %v",
				v, c.Status, c.Start, c.Answer, c.Duration, len(c.Streams), c.Audio, e.Status, e.Start, e.Answer, e.Duration)
		}
		checkTones(t, c, dir, exp[0].CallerTone, exp[0].CalleeTone)

		// The same without the keys ever coming: no call followed by its
		// SIP (the RTP may be a signalless call), and the connection
		// counted as without keys when the capture ends.
		src = &keysLater{fakeLive: &fakeLive{name: "eth1", frames: frames}, at: at, add: func() {}}
		dir = t.TempDir()
		db = openIndex(t, dir)
		l = recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096, Keys: keys.NewStore(nil)}, []capture.Source{src}, db)
		if err := l.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range allCalls(t, db) {
			if c.Signalling != spanrec.SignallingNone {
				t.Errorf("TLS %x, keys never given: call %q followed by its SIP", v, c.SIPCallID)
			}
		}
		if st := l.Stats().TLS; st.NoKeys != 1 || st.Decrypted != 0 {
			t.Errorf("TLS %x, keys never given: stats %+v", v, st)
		}
	}
}

// checkTones checks that the caller's channel of c's WAV holds the tone
// caller and the callee's the tone callee, in the middle of the talk.
func checkTones(t *testing.T, c *spanrec.Call, data string, caller, callee int) {
	t.Helper()
	if c.Audio == "" {
		t.Fatalf("%s: no audio (notes %q)", c.SIPCallID, c.Notes)
	}
	f, err := os.Open(filepath.Join(data, filepath.FromSlash(c.Audio)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil || info.Channels != 2 {
		t.Fatalf("%s: %v, %d channels", c.Audio, err, info.Channels)
	}
	n := len(pcm) / 2
	if n < info.SampleRate {
		t.Fatalf("%s: %d samples, want at least 1 s", c.Audio, n)
	}
	for ch, tone := range []int{caller, callee} {
		w := make([]int16, 0, info.SampleRate/2)
		for k := n/2 - info.SampleRate/4; k < n/2+info.SampleRate/4; k++ {
			w = append(w, pcm[2*k+ch])
		}
		got, share := audio.DominantFrequency(w, info.SampleRate, []float64{float64(caller), float64(callee)})
		if int(got) != tone || share < 0.5 {
			t.Errorf("%s: channel %d: dominant %.0f Hz (share %.2f), want %d Hz", c.SIPCallID, ch, got, share, tone)
		}
	}
}
