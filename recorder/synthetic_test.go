package recorder_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/sqlite"
)

// synth is a generated capture imported into a fresh data directory.
type synth struct {
	opts  pcaptest.Options
	pcap  string // the generated capture
	data  string // the data directory
	calls map[string]*spanrec.Call
	exp   []pcaptest.Expectation
	sum   recorder.Summary
	tones []float64 // every tone of the capture, ringback included
}

const synthSeed = 7

// record writes a capture of calls, imports it and returns what the index
// holds, with what pcaptest says a correct recorder reports.
func record(t *testing.T, calls ...pcaptest.Call) *synth {
	t.Helper()
	return recordOpts(t, pcaptest.Options{Seed: synthSeed, Calls: calls})
}

func recordOpts(t *testing.T, o pcaptest.Options) *synth {
	t.Helper()
	s := &synth{opts: o, pcap: filepath.Join(t.TempDir(), "synthetic.pcap")}
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
	s.exp = exp
	var list []*spanrec.Call
	s.data, list, s.sum = importFile(t, s.pcap)
	s.calls = byCallID(t, list)
	s.tones = tonesOf(exp)
	return s
}

func byCallID(t *testing.T, list []*spanrec.Call) map[string]*spanrec.Call {
	t.Helper()
	m := make(map[string]*spanrec.Call, len(list))
	for _, c := range list {
		k := c.SIPCallID
		if c.Signalling == spanrec.SignallingNone {
			k = "signalless " + string(c.ID) // no Call-ID
		}
		if m[k] != nil {
			t.Errorf("call %s recorded twice", k)
		}
		m[k] = c
	}
	return m
}

func tonesOf(exp []pcaptest.Expectation) []float64 {
	tones := []float64{425} // the ringback of early media
	for _, e := range exp {
		for _, f := range []int{e.CallerTone, e.CalleeTone} {
			if !slices.Contains(tones, float64(f)) {
				tones = append(tones, float64(f))
			}
		}
	}
	return tones
}

// call returns the recorded call of expectation i, failing the test if
// there is none.
func (s *synth) call(t *testing.T, i int) *spanrec.Call {
	t.Helper()
	c := s.calls[s.exp[i].Call.SIPCallID]
	if c == nil {
		t.Fatalf("call %d (%s) not recorded; recorded %d calls", i, s.exp[i].Call.SIPCallID, len(s.calls))
	}
	return c
}

// checkAll checks that exactly the expected calls were recorded, each with
// the expected metadata and streams.
func (s *synth) checkAll(t *testing.T) {
	t.Helper()
	if len(s.calls) != len(s.exp) {
		t.Errorf("recorded %d calls, want %d", len(s.calls), len(s.exp))
	}
	for i := range s.exp {
		if s.calls[s.exp[i].Call.SIPCallID] == nil {
			t.Errorf("call %d (%s) not recorded", i, s.exp[i].Call.SIPCallID)
			continue
		}
		s.checkMeta(t, i)
	}
}

// near reports whether a and b are within d of each other.
func near(a, b time.Time, d time.Duration) bool {
	x := a.Sub(b)
	return x <= d && x >= -d
}

// checkMeta checks the metadata and stream figures of call i.
func (s *synth) checkMeta(t *testing.T, i int) {
	t.Helper()
	e := &s.exp[i].Call
	c := s.call(t, i)
	id := e.SIPCallID
	if c.ID != e.ID {
		t.Errorf("%s: ID %s, want %s", id, c.ID, e.ID)
	}
	if c.Caller.Number != e.Caller.Number || c.Callee.Number != e.Callee.Number {
		t.Errorf("%s: %s → %s, want %s → %s", id, c.Caller.Number, c.Callee.Number, e.Caller.Number, e.Callee.Number)
	}
	if c.Caller.Addr != e.Caller.Addr || c.Callee.Addr != e.Callee.Addr {
		t.Errorf("%s: addresses %v → %v, want %v → %v", id, c.Caller.Addr, c.Callee.Addr, e.Caller.Addr, e.Callee.Addr)
	}
	if c.Caller.Name != e.Caller.Name || c.Callee.Name != e.Callee.Name {
		t.Errorf("%s: names %q → %q, want %q → %q", id, c.Caller.Name, c.Callee.Name, e.Caller.Name, e.Callee.Name)
	}
	if c.Status != e.Status || c.StatusCode != e.StatusCode {
		t.Errorf("%s: status %s (%d), want %s (%d)", id, c.Status, c.StatusCode, e.Status, e.StatusCode)
	}
	if c.Direction != e.Direction {
		t.Errorf("%s: direction %s, want %s", id, c.Direction, e.Direction)
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{{"start", c.Start, e.Start}, {"answer", c.Answer, e.Answer}, {"end", c.End, e.End}} {
		if f.got.IsZero() != f.want.IsZero() || !near(f.got, f.want, time.Millisecond) {
			t.Errorf("%s: %s %v, want %v", id, f.name, f.got, f.want)
		}
	}
	if d := c.Duration - e.Duration; d > time.Millisecond || d < -time.Millisecond {
		t.Errorf("%s: duration %v, want %v", id, c.Duration, e.Duration)
	}
	if c.CaptureLoss != e.CaptureLoss {
		t.Errorf("%s: capture loss %v, want %v", id, c.CaptureLoss, e.CaptureLoss)
	}
	if len(e.Streams) > 0 && !slices.Equal(c.Codecs, e.Codecs) {
		t.Errorf("%s: codecs %q, want %q", id, c.Codecs, e.Codecs)
	}
	if !slices.Equal(c.Notes, e.Notes) {
		t.Errorf("%s: notes %q, want %q", id, c.Notes, e.Notes)
	}
	if c.Signalling != e.Signalling {
		t.Errorf("%s: signalling %q, want %q", id, c.Signalling, e.Signalling)
	}
	if len(c.Holds) != len(e.Holds) {
		t.Errorf("%s: holds %+v, want %+v", id, c.Holds, e.Holds)
	} else {
		for k, h := range e.Holds {
			g := c.Holds[k]
			if g.Side != h.Side || !near(g.Start, h.Start, time.Millisecond) || !near(g.End, h.End, time.Millisecond) {
				t.Errorf("%s: hold %d %+v, want %+v", id, k, g, h)
			}
		}
	}
	s.checkStreams(t, c, e)
	checkDTMF(t, c, e)
}

// checkStreams compares the streams of c with e's. A stream that moved to
// another port (re-INVITE) is recorded once per flow: the figures are
// summed per SSRC.
func (s *synth) checkStreams(t *testing.T, c, e *spanrec.Call) {
	t.Helper()
	type agg struct {
		side               spanrec.Side
		packets, lost, ooo int
		flows              map[[2]netip.AddrPort]bool
		first, last        time.Time
		codec              string
		pt                 uint8
		decoded            bool
	}
	got := map[uint32]*agg{}
	for _, st := range c.Streams {
		a := got[st.SSRC]
		if a == nil {
			a = &agg{side: st.Side, flows: map[[2]netip.AddrPort]bool{}, first: st.First, last: st.Last, codec: st.Codec, pt: st.PayloadType, decoded: st.Decoded}
			got[st.SSRC] = a
		}
		k := [2]netip.AddrPort{st.Src, st.Dst}
		if a.flows[k] {
			t.Errorf("%s: SSRC %#x %v → %v recorded twice", c.SIPCallID, st.SSRC, st.Src, st.Dst)
		}
		a.flows[k] = true
		if st.Side != a.side {
			t.Errorf("%s: SSRC %#x on both sides", c.SIPCallID, st.SSRC)
		}
		a.packets += st.Packets
		a.lost += st.Lost
		a.ooo += st.OutOfOrder
		if st.First.Before(a.first) {
			a.first = st.First
		}
		if st.Last.After(a.last) {
			a.last = st.Last
		}
		if st.MOS < 1 || st.MOS > 4.5 || st.JitterMS < 0 || st.MaxJitterMS < st.JitterMS {
			t.Errorf("%s: SSRC %#x %v → %v: MOS %.2f, jitter %.2f ms (max %.2f)", c.SIPCallID, st.SSRC, st.Src, st.Dst, st.MOS, st.JitterMS, st.MaxJitterMS)
		}
		if testing.Verbose() {
			t.Logf("%s: SSRC %#x %v → %v: MOS %.2f, jitter %.2f ms (max %.2f), max delta %.1f ms, lost %d", c.SIPCallID, st.SSRC, st.Src, st.Dst, st.MOS, st.JitterMS, st.MaxJitterMS, st.MaxDeltaMS, st.Lost)
		}
	}
	if len(got) != len(e.Streams) {
		t.Errorf("%s: %d SSRCs (%d streams), want %d", c.SIPCallID, len(got), len(c.Streams), len(e.Streams))
	}
	for _, es := range e.Streams {
		a := got[es.SSRC]
		if a == nil {
			t.Errorf("%s: %s stream SSRC %#x (%v → %v) not recorded", c.SIPCallID, es.Side, es.SSRC, es.Src, es.Dst)
			continue
		}
		if a.side != es.Side {
			t.Errorf("%s: SSRC %#x side %s, want %s", c.SIPCallID, es.SSRC, a.side, es.Side)
		}
		if !a.flows[[2]netip.AddrPort{es.Src, es.Dst}] {
			t.Errorf("%s: SSRC %#x has no flow %v → %v (has %v)", c.SIPCallID, es.SSRC, es.Src, es.Dst, a.flows)
		}
		if a.packets != es.Packets || a.lost != es.Lost {
			t.Errorf("%s: %s SSRC %#x: %d packets, %d lost; want %d, %d", c.SIPCallID, es.Side, es.SSRC, a.packets, a.lost, es.Packets, es.Lost)
		}
		if a.ooo != es.OutOfOrder {
			t.Errorf("%s: %s SSRC %#x: %d out of order, want %d", c.SIPCallID, es.Side, es.SSRC, a.ooo, es.OutOfOrder)
		}
		if !near(a.first, es.First, time.Millisecond) || !near(a.last, es.Last, time.Millisecond) {
			t.Errorf("%s: %s SSRC %#x: %v to %v, want %v to %v", c.SIPCallID, es.Side, es.SSRC, a.first, a.last, es.First, es.Last)
		}
		if a.codec != es.Codec || a.pt != es.PayloadType || !a.decoded {
			t.Errorf("%s: %s SSRC %#x: codec %s/%d decoded %v, want %s/%d decoded", c.SIPCallID, es.Side, es.SSRC, a.codec, a.pt, a.decoded, es.Codec, es.PayloadType)
		}
	}
}

// checkDTMF checks the digits of c against e's: in order, with digit,
// side, source and duration, at the right time (within 40 ms).
func checkDTMF(t *testing.T, c, e *spanrec.Call) {
	t.Helper()
	if len(c.DTMF) != len(e.DTMF) {
		t.Errorf("%s: DTMF %+v, want %+v", c.SIPCallID, c.DTMF, e.DTMF)
		return
	}
	for k, want := range e.DTMF {
		got := c.DTMF[k]
		if got.Digit != want.Digit || got.Side != want.Side || got.Source != want.Source ||
			!near(got.At, want.At, 40*time.Millisecond) || got.DurationMS != want.DurationMS {
			t.Errorf("%s: DTMF %d: %s from %s by %s at %v for %d ms; want %s from %s by %s at %v for %d ms", c.SIPCallID, k,
				got.Digit, got.Side, got.Source, got.At.Sub(e.Start), got.DurationMS,
				want.Digit, want.Side, want.Source, want.At.Sub(e.Start), want.DurationMS)
		}
	}
}

// recording is the decoded WAV of a call.
type recording struct {
	rate  int
	ch    [2][]int16 // caller (left), callee (right)
	start time.Time  // capture time of the first sample
}

// audioFrom returns when the recording of e should start: the answer, or
// the first packet of early media.
func audioFrom(e *spanrec.Call) time.Time {
	from := e.Answer
	for _, s := range e.Streams {
		if s.Packets > 0 && (from.IsZero() || s.First.Before(from)) {
			from = s.First
		}
	}
	return from
}

// checkRecording reads the WAV of call i and checks its format and length:
// stereo at rate, covering the audio interval (answer or early media to
// the end) within 20 ms.
func (s *synth) checkRecording(t *testing.T, i, rate int) *recording {
	t.Helper()
	e := &s.exp[i].Call
	c := s.call(t, i)
	if c.Audio == "" {
		t.Fatalf("%s: no audio (notes %q)", c.SIPCallID, c.Notes)
	}
	f, err := os.Open(filepath.Join(s.data, filepath.FromSlash(c.Audio)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil {
		t.Fatalf("%s: %v", c.Audio, err)
	}
	if info.Channels != 2 || info.SampleRate != rate || info.BitsPerSample != 16 {
		t.Fatalf("%s: %d channels at %d Hz, %d bits; want 2 at %d Hz, 16 bits", c.Audio, info.Channels, info.SampleRate, info.BitsPerSample, rate)
	}
	r := &recording{rate: rate, start: c.AudioStart}
	for k := 0; k+1 < len(pcm); k += 2 {
		r.ch[0] = append(r.ch[0], pcm[k])
		r.ch[1] = append(r.ch[1], pcm[k+1])
	}
	from := audioFrom(e)
	if !near(c.AudioStart, from, time.Millisecond) {
		t.Errorf("%s: audio starts at %v, want %v", c.SIPCallID, c.AudioStart, from)
	}
	want := e.End.Sub(from)
	got := time.Duration(len(r.ch[0])) * time.Second / time.Duration(rate)
	if d := got - want; d > 20*time.Millisecond || d < -20*time.Millisecond {
		t.Errorf("%s: audio %v long, want %v", c.SIPCallID, got, want)
	}
	if d := time.Duration(c.AudioMS)*time.Millisecond - got; d > time.Millisecond || d < -time.Millisecond {
		t.Errorf("%s: index says %d ms of audio, the WAV holds %v", c.SIPCallID, c.AudioMS, got)
	}
	return r
}

// window returns channel ch (0 left, 1 right) between capture times from
// and to.
func (r *recording) window(ch int, from, to time.Time) []int16 {
	pos := func(at time.Time) int {
		p := int(int64(at.Sub(r.start)) * int64(r.rate) / int64(time.Second))
		return min(max(p, 0), len(r.ch[ch]))
	}
	return r.ch[ch][pos(from):pos(to)]
}

// checkTone checks that tone is the dominant frequency of channel ch over
// [from, to), among the capture's tones.
func (s *synth) checkTone(t *testing.T, r *recording, what string, ch, tone int, from, to time.Time) {
	t.Helper()
	w := r.window(ch, from, to)
	if len(w) < r.rate/20 {
		t.Errorf("%s: window %v–%v of channel %d is only %d samples", what, from, to, ch, len(w))
		return
	}
	f, share := audio.DominantFrequency(w, r.rate, s.tones)
	if int(f) != tone || share < 0.5 {
		t.Errorf("%s: channel %d at %v–%v: dominant %.0f Hz (share %.2f, RMS %.0f), want %d Hz",
			what, ch, from.Sub(r.start), to.Sub(r.start), f, share, audio.RMS(w), tone)
	}
}

// checkSilent checks that channel ch is silent over [from, to).
func checkSilent(t *testing.T, r *recording, what string, ch int, from, to time.Time) {
	t.Helper()
	if rms := audio.RMS(r.window(ch, from, to)); rms > 50 {
		t.Errorf("%s: channel %d at %v–%v has RMS %.0f, want silence", what, ch, from.Sub(r.start), to.Sub(r.start), rms)
	}
}

// onset returns the capture time of the first sample of channel ch louder
// than a quarter of the generator's amplitude.
func (r *recording) onset(ch int) time.Time {
	for k, v := range r.ch[ch] {
		if v > 2000 || v < -2000 {
			return r.start.Add(time.Duration(k) * time.Second / time.Duration(r.rate))
		}
	}
	return time.Time{}
}

// checkTalk checks call i's recording where both parties talk: each
// channel's sound starts where its stream starts (within 5 ms), and the
// party's tone dominates its channel in several windows along the call.
func (s *synth) checkTalk(t *testing.T, i int, r *recording) {
	t.Helper()
	e := &s.exp[i]
	c := &e.Call
	for ch, side := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		var first time.Time
		for _, st := range c.Streams {
			if st.Side == side {
				first = st.First
			}
		}
		if got := r.onset(ch); !near(got, first, 5*time.Millisecond) {
			t.Errorf("%s: %s channel starts at %v, its stream at %v", c.SIPCallID, side, got.Sub(r.start), first.Sub(r.start))
		}
	}
	// Both parties talk from the caller's first packet (after the ACK) to
	// the BYE; take five 200 ms windows spread over that.
	var from time.Time
	for _, st := range c.Streams {
		if st.Side == spanrec.CallerSide {
			from = st.First.Add(20 * time.Millisecond)
		}
	}
	to := c.End.Add(-220 * time.Millisecond)
	for k := range 5 {
		a := from.Add(to.Sub(from) * time.Duration(k) / 4)
		b := a.Add(200 * time.Millisecond)
		s.checkTone(t, r, c.SIPCallID+" caller", 0, e.CallerTone, a, b)
		s.checkTone(t, r, c.SIPCallID+" callee", 1, e.CalleeTone, a, b)
	}
}

// checkFiles checks the files of every recorded call: under
// recordings/YYYY/MM/DD/ of the start day, relative to the data directory,
// mode 0640, with the SHA-256 the index holds; and an empty spool.
func (s *synth) checkFiles(t *testing.T) {
	t.Helper()
	for _, c := range s.calls {
		day := "recordings/" + c.Start.UTC().Format("2006/01/02") + "/"
		paths := []struct{ rel, sum, ext string }{{c.PCAP, c.PCAPSHA256, ".pcapng"}}
		if c.Audio != "" {
			paths = append(paths, struct{ rel, sum, ext string }{c.Audio, c.AudioSHA256, ".wav"})
		}
		for _, p := range paths {
			if !strings.HasPrefix(p.rel, day) || !strings.HasSuffix(p.rel, p.ext) || filepath.IsAbs(p.rel) || strings.Contains(p.rel, "..") {
				t.Errorf("%s: file %q, want %s<id>%s", c.SIPCallID, p.rel, day, p.ext)
				continue
			}
			full := filepath.Join(s.data, filepath.FromSlash(p.rel))
			fi, err := os.Stat(full)
			if err != nil {
				t.Errorf("%s: %v", c.SIPCallID, err)
				continue
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("%s: mode %v, want 0640", p.rel, fi.Mode().Perm())
			}
			b, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != p.sum {
				t.Errorf("%s: SHA-256 %x, index says %s", p.rel, h, p.sum)
			}
		}
	}
	for _, e := range pcaptest.SpoolEntries(t, s.data) {
		t.Errorf("spool not empty after import: %s", e)
	}
}

// pcapContent counts what the per-call pcapng of c holds: the SIP messages
// (UDP datagrams, IP fragments reassembled, and TCP streams framed by
// Content-Length) and the RTP packets.
func (s *synth) pcapContent(t *testing.T, c *spanrec.Call) (sip, rtp int) {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join(s.data, filepath.FromSlash(c.PCAP)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1})
	framers := map[[2]netip.AddrPort]*sipmsg.Framer{}
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", c.PCAP, err)
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok {
			continue
		}
		switch {
		case p.Proto == packet.ProtoTCP:
			k := [2]netip.AddrPort{p.Src, p.Dst}
			if framers[k] == nil {
				framers[k] = &sipmsg.Framer{}
			}
			framers[k].Write(p.Payload, func([]byte) { sip++ })
		case sipmsg.Looks(p.Payload):
			sip++
		case len(p.Payload) >= 12 && p.Payload[0]>>6 == 2:
			rtp++
		}
	}
	return sip, rtp
}

// checkPCAP checks that the pcapng of call i holds the call's SIP messages
// and RTP packets, each once.
func (s *synth) checkPCAP(t *testing.T, i int) {
	t.Helper()
	e := &s.exp[i]
	c := s.call(t, i)
	sip, rtp := s.pcapContent(t, c)
	want := 0
	for _, n := range e.Requests {
		want += n
	}
	for _, n := range e.Responses {
		want += n
	}
	wantRTP := 0
	for _, st := range e.Call.Streams {
		wantRTP += st.Packets
	}
	if sip != want || rtp != wantRTP {
		t.Errorf("%s: pcapng holds %d SIP messages and %d RTP packets, want %d and %d", c.PCAP, sip, rtp, want, wantRTP)
	}
}

// tsharkReads checks that tshark, when installed, reads every frame of the
// pcapng of call i and finds all its SIP messages, of that call only.
func (s *synth) tsharkReads(t *testing.T, i int) {
	t.Helper()
	c := s.call(t, i)
	want := 0
	for _, n := range s.exp[i].Requests {
		want += n
	}
	for _, n := range s.exp[i].Responses {
		want += n
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: not checking that it reads the per-call pcapng")
		return
	}
	path := filepath.Join(s.data, filepath.FromSlash(c.PCAP))
	frames := 0
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := src.ReadFrame(); err != nil {
			break
		}
		frames++
	}
	src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "sip.Call-ID")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", c.PCAP, err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sip := 0
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) < 2 || f[1] == "" {
			continue
		}
		for _, id := range strings.Split(f[1], ",") {
			sip++
			if id != c.SIPCallID {
				t.Errorf("tshark -r %s: frame %s has SIP of call %q", c.PCAP, f[0], id)
			}
		}
	}
	if len(lines) != frames || sip != want {
		t.Errorf("tshark -r %s: %d frames, %d SIP messages; want %d and %d\n%s", c.PCAP, len(lines), sip, frames, want, stderr.Bytes())
	}
}

// importInto imports path into the data directory data, with its index.
func importInto(t *testing.T, path, data string) ([]*spanrec.Call, recorder.Summary) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum := importIndex(t, path, data, db)
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return calls, sum
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func mustAddr(s string) netip.Addr         { return netip.MustParseAddr(s) }

func TestSynthetic(t *testing.T) {
	t.Run("concurrent", func(t *testing.T) {
		s := record(t, pcaptest.Concurrent(20, 2*time.Second, 3*time.Second)...)
		s.checkAll(t)
		for i := range s.exp {
			r := s.checkRecording(t, i, 8000)
			s.checkTalk(t, i, r)
		}
		s.checkFiles(t)
		if s.sum.Calls != 20 || s.sum.WithAudio != 20 || s.sum.WithoutAudio != 0 || s.sum.Streams != 40 || s.sum.Errors != 0 {
			t.Errorf("summary: %d calls, %d with audio, %d without, %d streams, %d errors; want 20, 20, 0, 40, 0",
				s.sum.Calls, s.sum.WithAudio, s.sum.WithoutAudio, s.sum.Streams, s.sum.Errors)
		}
	})

	t.Run("codecs", func(t *testing.T) {
		s := record(t,
			pcaptest.Call{Codec: "G722", Caller: pcaptest.Endpoint{Tone: 700}, Callee: pcaptest.Endpoint{Tone: 1900}},
			pcaptest.Call{Codec: "PCMA", Start: 5 * time.Second, Caller: pcaptest.Endpoint{Tone: 550}, Callee: pcaptest.Endpoint{Tone: 1300}},
			// rtpmap names are case-insensitive: "pcma" is PCMA in the
			// codecs, the streams and the codec search.
			pcaptest.Call{Codec: "pcma", Start: 10 * time.Second, Caller: pcaptest.Endpoint{Tone: 600}, Callee: pcaptest.Endpoint{Tone: 1500}},
		)
		s.checkAll(t)
		if c := s.call(t, 2); !slices.Equal(c.Codecs, []string{"PCMA"}) {
			t.Errorf("rtpmap pcma: codecs %q, want [PCMA]", c.Codecs)
		}
		db := openIndex(t, s.data)
		got, err := db.Calls(context.Background(), spanrec.CallFilter{Codec: "PCMA"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("codec search PCMA: %d calls, want 2 (PCMA and pcma)", len(got))
		}
		for i, rate := range []int{16000, 8000, 8000} {
			r := s.checkRecording(t, i, rate)
			s.checkTalk(t, i, r)
		}
		s.checkFiles(t)
	})

	t.Run("hold-moves-port", func(t *testing.T) {
		hold := &pcaptest.Hold{At: 1500 * time.Millisecond, Length: 2 * time.Second, NewCallerRTP: mustAddrPort("10.0.1.1:30000")}
		s := record(t, pcaptest.Call{Talk: 6 * time.Second, Hold: hold})
		s.checkAll(t)
		e := &s.exp[0]
		c := s.call(t, 0)
		r := s.checkRecording(t, 0, 8000)
		ans := e.Call.Answer
		holdAt, resume := ans.Add(hold.At), ans.Add(hold.At+hold.Length)
		moved := false
		for _, st := range c.Streams {
			if st.Src == hold.NewCallerRTP && st.Side == spanrec.CallerSide && st.Packets > 0 {
				moved = true
			}
		}
		if !moved {
			t.Errorf("no caller stream from the new port %v: %+v", hold.NewCallerRTP, c.Streams)
		}
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		// The caller talks all along, on the new port after the resume.
		for _, w := range [][2]time.Time{
			{ans.Add(ms(100)), holdAt},
			{holdAt.Add(ms(100)), resume},
			{resume.Add(ms(100)), resume.Add(ms(600))},
			{e.Call.End.Add(-ms(600)), e.Call.End.Add(-ms(50))},
		} {
			s.checkTone(t, r, "caller", 0, e.CallerTone, w[0], w[1])
		}
		// The callee stops once it has answered recvonly, and resumes.
		s.checkTone(t, r, "callee before hold", 1, e.CalleeTone, ans.Add(ms(100)), holdAt)
		checkSilent(t, r, "callee on hold", 1, holdAt.Add(ms(80)), resume)
		s.checkTone(t, r, "callee after hold", 1, e.CalleeTone, resume.Add(ms(100)), e.Call.End.Add(-ms(50)))
		s.checkFiles(t)
	})

	t.Run("hold-styles-one-way", func(t *testing.T) {
		hold := func(st pcaptest.HoldStyle) *pcaptest.Hold {
			return &pcaptest.Hold{At: time.Second, Length: 2 * time.Second, Style: st}
		}
		s := record(t,
			pcaptest.Call{Talk: 5 * time.Second, Hold: hold(pcaptest.HoldSendonly)},
			pcaptest.Call{Talk: 5 * time.Second, Hold: hold(pcaptest.HoldInactive), Start: 8 * time.Second},
			pcaptest.Call{Talk: 5 * time.Second, Hold: hold(pcaptest.HoldZeroAddr), Start: 16 * time.Second},
			pcaptest.Call{Talk: 4 * time.Second, OneWay: true, Start: 24 * time.Second},
		)
		// checkMeta: the hold spans, and no note blames the mirror.
		s.checkAll(t)
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		for i := range 3 {
			e := &s.exp[i]
			r := s.checkRecording(t, i, 8000)
			ans := e.Call.Answer
			holdAt, resume := ans.Add(time.Second), ans.Add(3*time.Second)
			checkSilent(t, r, "callee on hold", 1, holdAt.Add(ms(80)), resume)
			s.checkTone(t, r, "callee after hold", 1, e.CalleeTone, resume.Add(ms(100)), e.Call.End.Add(-ms(50)))
			if i == 1 {
				checkSilent(t, r, "caller inactive", 0, holdAt.Add(ms(80)), resume)
			} else {
				s.checkTone(t, r, "caller during hold", 0, e.CallerTone, holdAt.Add(ms(100)), resume)
			}
		}
		e := &s.exp[3]
		if len(e.Call.Streams) != 1 {
			t.Fatalf("one-way call: %d streams planned, want the caller's only", len(e.Call.Streams))
		}
		r := s.checkRecording(t, 3, 8000)
		s.checkTone(t, r, "one-way caller", 0, e.CallerTone, e.Call.Answer.Add(ms(200)), e.Call.End.Add(-ms(50)))
		checkSilent(t, r, "one-way callee", 1, e.Call.Answer, e.Call.End)
	})

	t.Run("caller-nat", func(t *testing.T) {
		s := record(t, pcaptest.Call{
			Caller:    pcaptest.Endpoint{SIP: mustAddr("192.168.1.10"), RTP: mustAddrPort("192.168.1.10:4000")},
			CallerNAT: mustAddrPort("203.0.113.50:61000"),
		})
		s.checkAll(t)
		r := s.checkRecording(t, 0, 8000)
		s.checkTalk(t, 0, r)
	})

	t.Run("loss-reorder", func(t *testing.T) {
		s := record(t, pcaptest.Call{Talk: 5 * time.Second, Loss: 0.05, Reorder: 0.05})
		s.checkAll(t)
		e := &s.exp[0].Call
		lost, ooo := 0, 0
		for _, st := range e.Streams {
			lost += st.Lost
			ooo += st.OutOfOrder
		}
		if lost == 0 || ooo == 0 {
			t.Fatalf("the generated capture has %d lost and %d out of order packets; want some of each", lost, ooo)
		}
		r := s.checkRecording(t, 0, 8000)
		s.checkTalk(t, 0, r)
	})

	t.Run("transports", func(t *testing.T) {
		s := record(t,
			pcaptest.Call{FragmentInvite: true},
			pcaptest.Call{Transport: "tcp", Start: 5 * time.Second},
			pcaptest.Call{VLAN: []uint16{100}, Start: 10 * time.Second},
			pcaptest.Call{VLAN: []uint16{200, 300}, Start: 15 * time.Second},
			pcaptest.Call{Start: 20 * time.Second,
				Caller: pcaptest.Endpoint{SIP: mustAddr("fd00::1:1")},
				Callee: pcaptest.Endpoint{SIP: mustAddr("fd00::2:1")}},
		)
		s.checkAll(t)
		for i := range s.exp {
			r := s.checkRecording(t, i, 8000)
			s.checkTalk(t, i, r)
			s.checkPCAP(t, i)
		}
		if s.sum.Packet.Reassembled == 0 {
			t.Error("no IP datagram reassembled")
		}
		if s.sum.TCPFlows == 0 {
			t.Error("no TCP flow followed")
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		calls := []pcaptest.Call{
			{Talk: 2 * time.Second},
			{Start: 500 * time.Millisecond, Talk: 2 * time.Second, Outcome: pcaptest.Busy},
			{Start: time.Second, Talk: 2 * time.Second, Transport: "tcp"},
		}
		plain := record(t, calls...)
		for i := range calls {
			calls[i].Duplicate = true
		}
		dup := record(t, calls...)
		dup.checkAll(t)
		if dup.sum.Packet.Duplicates == 0 {
			t.Error("no mirror copy dropped")
		}
		for i := range calls {
			a, b := plain.call(t, i), dup.call(t, i)
			if len(a.Streams) != len(b.Streams) {
				t.Errorf("%s: %d streams with duplicates, %d without", a.SIPCallID, len(b.Streams), len(a.Streams))
				continue
			}
			for k := range a.Streams {
				if a.Streams[k].Packets != b.Streams[k].Packets || a.Streams[k].Lost != b.Streams[k].Lost {
					t.Errorf("%s: stream %d: %d packets (%d lost) with duplicates, %d (%d) without", a.SIPCallID, k,
						b.Streams[k].Packets, b.Streams[k].Lost, a.Streams[k].Packets, a.Streams[k].Lost)
				}
			}
			dup.checkPCAP(t, i)
		}
		r := dup.checkRecording(t, 0, 8000)
		dup.checkTalk(t, 0, r)
	})

	t.Run("outcomes", func(t *testing.T) {
		s := record(t,
			pcaptest.Call{Outcome: pcaptest.Busy},
			pcaptest.Call{Outcome: pcaptest.Cancelled, Start: 2 * time.Second},
			pcaptest.Call{Outcome: pcaptest.NoAnswer, Start: 4 * time.Second},
			pcaptest.Call{Outcome: pcaptest.Failed, Start: 6 * time.Second},
			pcaptest.Call{EarlyMedia: true, Ring: 1500 * time.Millisecond, Start: 8 * time.Second},
		)
		s.checkAll(t)
		for i, want := range []struct {
			status spanrec.Status
			code   int
		}{{spanrec.Busy, 486}, {spanrec.Cancelled, 487}, {spanrec.NoAnswer, 480}, {spanrec.Failed, 503}} {
			c := s.call(t, i)
			if c.Status != want.status || c.StatusCode != want.code {
				t.Errorf("%s: %s (%d), want %s (%d)", c.SIPCallID, c.Status, c.StatusCode, want.status, want.code)
			}
			if c.Duration != 0 || !c.Answer.IsZero() || c.Audio != "" || c.AudioMS != 0 {
				t.Errorf("%s: unanswered call has duration %v, answer %v, audio %q (%d ms)", c.SIPCallID, c.Duration, c.Answer, c.Audio, c.AudioMS)
			}
		}
		// Early media: the recording starts with the ringback in the
		// callee's channel, the caller's silent until the answer.
		e := &s.exp[4]
		r := s.checkRecording(t, 4, 8000)
		s.checkTalk(t, 4, r)
		early := e.Call.Streams[len(e.Call.Streams)-1].First
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		if got := r.start; !near(got, early, time.Millisecond) {
			t.Errorf("recording starts at %v, early media at %v", got, early)
		}
		s.checkTone(t, r, "ringback", 1, 425, early.Add(ms(50)), e.Call.Answer.Add(-ms(50)))
		checkSilent(t, r, "caller before the answer", 0, early, e.Call.Answer)
		s.checkFiles(t)
	})

	t.Run("dtmf", func(t *testing.T) {
		s := record(t, pcaptest.Call{Talk: 6 * time.Second, DTMF: "19*#A", DTMFInfo: "*0D"})
		s.checkAll(t)
		if n := len(s.call(t, 0).DTMF); n != 8 {
			t.Errorf("%d digits, want 8", n)
		}
		s.checkRecording(t, 0, 8000)
		s.checkPCAP(t, 0)
	})

	t.Run("retransmissions", func(t *testing.T) {
		// The same capture, with the INVITE, its 200 OK, an INFO and the
		// BYE each sent twice: one call, the same times, each digit once.
		o := pcaptest.Options{Seed: synthSeed, Calls: []pcaptest.Call{{Talk: 4 * time.Second, DTMFInfo: "7"}}}
		s := &synth{opts: o, pcap: filepath.Join(t.TempDir(), "retransmitted.pcap")}
		var buf bytes.Buffer
		if err := pcaptest.Write(&buf, o); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.pcap, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		n := retransmit(t, s.pcap, 500*time.Millisecond, "INVITE ", "SIP/2.0 200 OK\r\nVia", "INFO ", "BYE ")
		exp, err := pcaptest.Expected(o)
		if err != nil {
			t.Fatal(err)
		}
		s.exp, s.tones = exp, tonesOf(exp)
		var list []*spanrec.Call
		s.data, list, s.sum = importFile(t, s.pcap)
		s.calls = byCallID(t, list)
		s.checkAll(t)
		sip, _ := s.pcapContent(t, s.call(t, 0))
		want := n
		for _, k := range exp[0].Requests {
			want += k
		}
		for _, k := range exp[0].Responses {
			want += k
		}
		if sip != want {
			t.Errorf("pcapng holds %d SIP messages, want %d", sip, want)
		}
	})

	t.Run("variants", func(t *testing.T) {
		// Combinations of the above, one call each.
		nat := pcaptest.Endpoint{SIP: mustAddr("192.168.1.10"), RTP: mustAddrPort("192.168.1.10:4000")}
		natAddr := mustAddrPort("203.0.113.50:61000")
		v6a, v6b := pcaptest.Endpoint{SIP: mustAddr("fd00::1:1")}, pcaptest.Endpoint{SIP: mustAddr("fd00::2:1")}
		for _, v := range []struct {
			name string
			call pcaptest.Call
		}{
			{"ptime 10ms", pcaptest.Call{PTime: 10 * time.Millisecond}},
			{"ptime 30ms", pcaptest.Call{PTime: 30 * time.Millisecond}},
			{"G.722 ptime 60ms", pcaptest.Call{Codec: "G722", PTime: 60 * time.Millisecond}},
			{"G.722 early media", pcaptest.Call{Codec: "G722", EarlyMedia: true}},
			{"G.722 loss and reorder", pcaptest.Call{Codec: "G722", Loss: 0.1, Reorder: 0.1, Talk: 4 * time.Second}},
			{"IPv6 over TCP", pcaptest.Call{Transport: "tcp", Caller: v6a, Callee: v6b}},
			{"NAT over TCP", pcaptest.Call{Transport: "tcp", Caller: nat, CallerNAT: natAddr}},
			{"QinQ, duplicates, fragments", pcaptest.Call{VLAN: []uint16{10, 20}, Duplicate: true, FragmentInvite: true}},
			{"public addresses", pcaptest.Call{Caller: pcaptest.Endpoint{SIP: mustAddr("198.51.100.7")}, Callee: pcaptest.Endpoint{SIP: mustAddr("203.0.113.9")}}},
			{"short", pcaptest.Call{Talk: 300 * time.Millisecond, Ring: 100 * time.Millisecond}},
		} {
			t.Run(v.name, func(t *testing.T) {
				s := record(t, v.call)
				s.checkAll(t)
				rate := 8000
				if v.call.Codec == "G722" {
					rate = 16000
				}
				s.checkTalk(t, 0, s.checkRecording(t, 0, rate))
				s.checkPCAP(t, 0)
				s.checkFiles(t)
			})
		}
		t.Run("NAT and hold with a move", func(t *testing.T) {
			hold := &pcaptest.Hold{At: time.Second, Length: 2 * time.Second, NewCallerRTP: mustAddrPort("192.168.1.10:4100")}
			s := record(t, pcaptest.Call{Talk: 5 * time.Second, Caller: nat, CallerNAT: natAddr, Hold: hold})
			s.checkAll(t)
			r := s.checkRecording(t, 0, 8000)
			end := s.exp[0].Call.End
			s.checkTone(t, r, "caller after the move", 0, s.exp[0].CallerTone, end.Add(-time.Second), end.Add(-50*time.Millisecond))
			s.checkTone(t, r, "callee after the hold", 1, s.exp[0].CalleeTone, end.Add(-time.Second), end.Add(-50*time.Millisecond))
		})
		t.Run("early media, not answered", func(t *testing.T) {
			s := record(t,
				pcaptest.Call{EarlyMedia: true, Outcome: pcaptest.Busy, Ring: 2 * time.Second},
				pcaptest.Call{EarlyMedia: true, Outcome: pcaptest.Cancelled, Ring: 2 * time.Second, Start: 3 * time.Second},
				pcaptest.Call{EarlyMedia: true, Outcome: pcaptest.NoAnswer, Ring: 2 * time.Second, Start: 6 * time.Second},
			)
			s.checkAll(t)
			for i, e := range s.exp {
				// The recording holds the ringback, from the 183 to the end.
				r := s.checkRecording(t, i, 8000)
				first := e.Call.Streams[0].First
				s.checkTone(t, r, "ringback", 1, 425, first.Add(50*time.Millisecond), first.Add(900*time.Millisecond))
				checkSilent(t, r, "caller", 0, first, e.Call.End)
			}
		})
		t.Run("ports reused by the next call", func(t *testing.T) {
			a := pcaptest.Endpoint{SIP: mustAddr("10.0.1.1"), RTP: mustAddrPort("10.0.1.1:4000"), Tone: 500}
			b := pcaptest.Endpoint{SIP: mustAddr("10.0.2.1"), RTP: mustAddrPort("10.0.2.1:5000"), Tone: 1200}
			a2, b2 := a, b
			a2.Tone, b2.Tone = 700, 1700
			s := record(t,
				pcaptest.Call{Caller: a, Callee: b, Talk: 2 * time.Second},
				pcaptest.Call{Caller: a2, Callee: b2, Start: 3100 * time.Millisecond, Talk: 2 * time.Second},
				pcaptest.Call{Caller: b, Callee: a, Start: 6200 * time.Millisecond, Talk: 2 * time.Second, EarlyMedia: true},
			)
			s.checkAll(t)
			for i := range s.exp {
				s.checkTalk(t, i, s.checkRecording(t, i, 8000))
				s.checkPCAP(t, i)
			}
		})
	})

	t.Run("reimport", func(t *testing.T) {
		s := record(t,
			pcaptest.Call{Talk: 2 * time.Second},
			pcaptest.Call{Start: time.Second, Outcome: pcaptest.Busy},
		)
		files := func() []string {
			var out []string
			filepath.WalkDir(filepath.Join(s.data, "recordings"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					out = append(out, p)
				}
				return nil
			})
			return out
		}
		before := files()
		first := map[string]spanrec.CallID{}
		for id, c := range s.calls {
			first[id] = c.ID
		}
		// Let the clock move, so that rewritten files have a later mtime.
		mark := time.Now()
		time.Sleep(20 * time.Millisecond)
		list, _ := importInto(t, s.pcap, s.data)
		s.calls = byCallID(t, list)
		if len(list) != len(first) {
			t.Errorf("%d calls after the second import, %d after the first", len(list), len(first))
		}
		for id, c := range s.calls {
			if first[id] != c.ID {
				t.Errorf("%s: ID %s, was %s", id, c.ID, first[id])
			}
		}
		if after := files(); !slices.Equal(before, after) {
			t.Errorf("files after the second import %q, after the first %q", after, before)
		}
		for _, c := range s.calls {
			for _, p := range []string{c.PCAP, c.Audio} {
				if p == "" {
					continue
				}
				fi, err := os.Stat(filepath.Join(s.data, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				if fi.ModTime().Before(mark) {
					t.Errorf("%s not rewritten (mtime %v, import at %v)", p, fi.ModTime(), mark)
				}
			}
		}
		s.checkAll(t)
		s.checkFiles(t)
	})

	t.Run("pcapng", func(t *testing.T) {
		s := record(t,
			pcaptest.Call{Talk: 4 * time.Second, DTMF: "5", DTMFInfo: "6",
				Hold: &pcaptest.Hold{At: time.Second, Length: time.Second}},
			pcaptest.Call{Transport: "tcp", Start: time.Second, Talk: 2 * time.Second},
			pcaptest.Call{FragmentInvite: true, Start: 2 * time.Second, Talk: 2 * time.Second},
		)
		for i := range s.exp {
			s.checkPCAP(t, i)
			s.tsharkReads(t, i)
		}
	})
}

// retransmit rewrites the capture at path with a copy of the first
// datagram of each given SIP start-line prefix ("INFO ", "SIP/2.0 200")
// sent again after d, as a UDP client or server does when it sees no
// answer (RFC 3261 §17.1.2.2, §13.3.1.4). It returns how many it added.
func retransmit(t *testing.T, path string, d time.Duration, prefixes ...string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	type frame struct {
		ci   gopacket.CaptureInfo
		data []byte
	}
	var frames []frame
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1})
	done := map[string]bool{}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame{ci, data})
		p, ok := dec.Decode(data, packet.LinkType(r.LinkType()), ci.Timestamp, ci.Length)
		if !ok || p.Proto != packet.ProtoUDP {
			continue
		}
		for _, pre := range prefixes {
			if !done[pre] && bytes.HasPrefix(p.Payload, []byte(pre)) {
				done[pre] = true
				ci.Timestamp = ci.Timestamp.Add(d)
				frames = append(frames, frame{ci, data})
			}
		}
	}
	f.Close()
	slices.SortStableFunc(frames, func(a, b frame) int { return a.ci.Timestamp.Compare(b.ci.Timestamp) })
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(done) != len(prefixes) {
		t.Fatalf("found %d of the messages %q to retransmit", len(done), prefixes)
	}
	return len(done)
}

// TestImportDemo imports the bundled demo capture and checks every call and
// the run's summary against what its generator says.
func TestImportDemo(t *testing.T) {
	o := pcaptest.Options{Seed: 1, Calls: pcaptest.Demo()}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	s := &synth{opts: o, pcap: filepath.Join("..", "testdata", "demo.pcap"), exp: exp, tones: tonesOf(exp)}
	var list []*spanrec.Call
	s.data, list, s.sum = importFile(t, s.pcap)
	s.calls = byCallID(t, list)
	s.checkAll(t)
	s.checkFiles(t)

	withAudio, streams := 0, 0
	for i, e := range exp {
		streams += len(e.Call.Streams)
		if e.Call.Status != spanrec.Answered {
			continue
		}
		withAudio++
		rate := 8000
		if e.Call.Codecs[0] == "G722" {
			rate = 16000
		}
		r := s.checkRecording(t, i, rate)
		// The demo's parties speak: each channel of the recording, from
		// the answer on, has talk spurts with formants and pauses.
		for ch, voice := range []int{e.CallerVoice, e.CalleeVoice} {
			w := r.window(ch, e.Call.Answer, e.Call.End)
			pcm := make([]float64, len(w))
			for i, v := range w {
				pcm[i] = float64(v)
			}
			sp := pcaptest.AnalyseSpeech(pcm, r.rate)
			if err := sp.Check(); voice == 0 || err != nil {
				t.Errorf("%s channel %d (voice %d Hz): not speech: %v (%+v)", e.Call.SIPCallID, ch, voice, err, sp)
			}
		}
	}
	sum := s.sum
	for _, f := range []struct {
		name      string
		got, want int
	}{
		{"calls seen", sum.Assembler.Calls, len(exp)},
		{"calls finished", sum.Assembler.CallsFinished, len(exp)},
		{"calls recorded", sum.Calls, len(exp)},
		{"with audio", sum.WithAudio, withAudio},
		{"without audio", sum.WithoutAudio, len(exp) - withAudio},
		{"streams", sum.Streams, streams},
		{"undecodable", sum.Undecodable, 0},
		{"lost", sum.Lost, 0},
		{"errors", sum.Errors, 0},
		{"unassigned RTP", sum.Assembler.Unassigned, 0},
		{"SIP errors", sum.SIPErrors, 0},
	} {
		if f.got != f.want {
			t.Errorf("summary: %s = %d, want %d", f.name, f.got, f.want)
		}
	}
	if sum.Truncated {
		t.Error("summary: capture truncated")
	}
}

var _ = math.Abs
