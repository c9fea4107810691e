package recorder_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/netip"
	"os"
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
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// filterFrames returns frames without those drop returns true for, judged
// by their decoded packet; frames that do not decode are kept.
func filterFrames(frames []capture.Frame, drop func(p *packet.Packet) bool) []capture.Frame {
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1})
	var out []capture.Frame
	for _, f := range frames {
		p, ok := dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig)
		if ok && drop(&p) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func isSIP(p *packet.Packet) bool { return p.Src.Port() == 5060 || p.Dst.Port() == 5060 }

// writeFrames writes frames to a pcapng file in a temporary directory.
func writeFrames(t *testing.T, frames []capture.Frame) string {
	t.Helper()
	var buf bytes.Buffer
	w := capture.NewWriter(&buf)
	for _, f := range frames {
		if err := w.WriteFrame(f.Data, f.Link, f.Time, f.Orig); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "frames.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importSignalless imports path with cc's call options into a fresh data
// directory.
func importSignalless(t *testing.T, path string, cc call.Config, shards int) (string, []*spanrec.Call, recorder.Summary) {
	t.Helper()
	data := t.TempDir()
	cc.DataDir = data
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum, err := recorder.Import(context.Background(), recorder.Config{Call: cc, Shards: shards}, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil {
		t.Fatal(err)
	}
	return data, calls, sum
}

func readStereo(t *testing.T, data string, c *spanrec.Call) (rate int, ch [2][]int16) {
	t.Helper()
	f, err := os.Open(filepath.Join(data, filepath.FromSlash(c.Audio)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil || info.Channels != 2 {
		t.Fatalf("%s: %+v, %v", c.Audio, info, err)
	}
	for k := 0; k+1 < len(pcm); k += 2 {
		ch[0] = append(ch[0], pcm[k])
		ch[1] = append(ch[1], pcm[k+1])
	}
	return info.SampleRate, ch
}

// TestSignallessSynthetic strips the SIP out of generated calls: their
// RTP alone must become calls, answered, with both parties' audio on
// their channels, named by their media addresses, from the first to the
// last packet, the same for any shard count; and none with
// calls.rtp_without_signalling: ignore.
func TestSignallessSynthetic(t *testing.T) {
	opts := pcaptest.Options{Seed: 21, Calls: []pcaptest.Call{
		{Talk: 7 * time.Second, Caller: pcaptest.Endpoint{Tone: 440}, Callee: pcaptest.Endpoint{Tone: 1000}},
		{Talk: 6 * time.Second, Start: 2 * time.Second, Codec: "PCMA", Caller: pcaptest.Endpoint{Tone: 550}, Callee: pcaptest.Endpoint{Tone: 1300}},
		{Talk: 6 * time.Second, Start: 4 * time.Second, Codec: "G722", Caller: pcaptest.Endpoint{Tone: 700}, Callee: pcaptest.Endpoint{Tone: 1900}},
	}}
	exp, err := pcaptest.Expected(opts)
	if err != nil {
		t.Fatal(err)
	}
	frames := filterFrames(generatedFrames(t, opts), isSIP)
	path := writeFrames(t, frames)
	data, calls, sum := importSignalless(t, path, call.Config{}, 1)
	if len(calls) != len(exp) || sum.Assembler.Signalless != len(exp) || sum.Assembler.Calls != 0 {
		t.Fatalf("%d calls (%d signalless, %d SIP dialogs), want %d signalless", len(calls), sum.Assembler.Signalless, sum.Assembler.Calls, len(exp))
	}
	tones := []float64{}
	for _, e := range exp {
		tones = append(tones, float64(e.CallerTone), float64(e.CalleeTone))
	}
	for i, e := range exp {
		c := calls[i]
		// The parties are the media addresses; the first to send is the
		// "caller" (here the callee, who starts sending on its 200 OK).
		toneOf := map[netip.AddrPort]int{}
		var first, last time.Time
		for _, s := range e.Call.Streams {
			tone := e.CallerTone
			if s.Side == spanrec.CalleeSide {
				tone = e.CalleeTone
			}
			toneOf[s.Src] = tone
			if first.IsZero() || s.First.Before(first) {
				first = s.First
			}
			if s.Last.After(last) {
				last = s.Last
			}
		}
		callerAP, err1 := netip.ParseAddrPort(c.Caller.Number)
		calleeAP, err2 := netip.ParseAddrPort(c.Callee.Number)
		if err1 != nil || err2 != nil || toneOf[callerAP] == 0 || toneOf[calleeAP] == 0 || callerAP == calleeAP {
			t.Errorf("call %d: parties %q and %q, want the media addresses %v", i, c.Caller.Number, c.Callee.Number, toneOf)
			continue
		}
		if c.Signalling != spanrec.SignallingNone || c.Status != spanrec.Answered || c.SIPCallID != "" {
			t.Errorf("call %d: signalling %q, status %s, Call-ID %q; want none, answered, none", i, c.Signalling, c.Status, c.SIPCallID)
		}
		if !near(c.Start, first, time.Millisecond) || !near(c.Answer, first, time.Millisecond) || !near(c.End, last, time.Millisecond) {
			t.Errorf("call %d: %v–%v (answer %v), want the media's %v–%v", i, c.Start, c.End, c.Answer, first, last)
		}
		if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "no signalling seen") }) {
			t.Errorf("call %d: notes %q lack the reason", i, c.Notes)
		}
		if len(c.Streams) != 2 {
			t.Fatalf("call %d: %d streams, want 2", i, len(c.Streams))
		}
		for _, s := range c.Streams {
			var want int
			for _, es := range e.Call.Streams {
				if es.SSRC == s.SSRC {
					want = es.Packets
				}
			}
			if s.Packets != want || !s.Decoded || s.Codec != e.Call.Codecs[0] {
				t.Errorf("call %d: stream %#x: %d packets %s decoded %v; want %d %s decoded", i, s.SSRC, s.Packets, s.Codec, s.Decoded, want, e.Call.Codecs[0])
			}
		}
		if c.Audio == "" {
			t.Fatalf("call %d: no audio (notes %q)", i, c.Notes)
		}
		rate, ch := readStereo(t, data, c)
		for k, ap := range []netip.AddrPort{callerAP, calleeAP} {
			// The middle of the call: both talk there.
			n := len(ch[k])
			f, share := audio.DominantFrequency(ch[k][n/3:2*n/3], rate, tones)
			if int(f) != toneOf[ap] || share < 0.5 {
				t.Errorf("call %d channel %d (%v): dominant %.0f Hz (share %.2f), want %d Hz", i, k, ap, f, share, toneOf[ap])
			}
		}
	}

	// Any number of shards gives the same recordings.
	if got := sameWithShards(t, frames); len(got) != len(exp) {
		t.Errorf("%d calls with shards, want %d", len(got), len(exp))
	}

	_, calls, sum = importSignalless(t, path, call.Config{IgnoreSignalless: true}, 1)
	if len(calls) != 0 || sum.Assembler.Signalless != 0 || sum.Assembler.Unassigned == 0 {
		t.Errorf("ignore: %d calls, %d signalless, %d unassigned; want none, none, some", len(calls), sum.Assembler.Signalless, sum.Assembler.Unassigned)
	}
	_, calls, _ = importSignalless(t, path, call.Config{IgnoreSignalless: true}, 3)
	if len(calls) != 0 {
		t.Errorf("ignore, 3 shards: %d calls, want none", len(calls))
	}
}

// TestSignallessNotStolen: a capture that begins after a call was set up
// sees 2 s of its RTP before the first SDP (a re-INVITE putting it on
// hold). The RTP is held, not made a call of its own, and the re-INVITE's
// call gets all of it, for any shard count.
func TestSignallessNotStolen(t *testing.T) {
	opts := pcaptest.Options{Seed: 22, Calls: []pcaptest.Call{
		{Talk: 6 * time.Second, Hold: &pcaptest.Hold{At: 2 * time.Second, Length: 2 * time.Second}},
	}}
	exp, err := pcaptest.Expected(opts)
	if err != nil {
		t.Fatal(err)
	}
	holdAt := exp[0].Call.Answer.Add(2 * time.Second)
	frames := filterFrames(generatedFrames(t, opts), func(p *packet.Packet) bool {
		return isSIP(p) && p.Time.Before(holdAt)
	})
	got := sameWithShards(t, frames)
	if len(got) != 1 {
		t.Fatalf("%d calls, want the re-INVITE's only: %v", len(got), got)
	}
	_, calls, sum := importSignalless(t, writeFrames(t, frames), call.Config{}, 1)
	if sum.Assembler.Signalless != 0 || len(calls) != 1 || calls[0].Signalling != spanrec.SignallingSIP {
		t.Fatalf("%d calls, %d signalless; want one SIP call", len(calls), sum.Assembler.Signalless)
	}
	for _, es := range exp[0].Call.Streams {
		n := 0
		for _, s := range calls[0].Streams {
			if s.SSRC == es.SSRC {
				n += s.Packets
			}
		}
		if n != es.Packets {
			t.Errorf("%s stream %#x: %d packets in the call, want all %d", es.Side, es.SSRC, n, es.Packets)
		}
	}
}

// TestSignallessCaptures imports the third-party captures of RTP without
// SIP: Cisco SCCP with G.711 (ndpi/skinny.pcap) becomes a call with audio
// and says SCCP was seen; SRTP with no signalling (marseillaise-srtp) a
// call whose encrypted stream is not decoded; bare RTP video
// (ndpi/rtp.pcapng) no call.
func TestSignallessCaptures(t *testing.T) {
	dir := capturesDir(t)
	data, calls, _ := importFile(t, filepath.Join(dir, "ndpi/skinny.pcap"))
	if len(calls) != 1 {
		t.Fatalf("skinny: %d calls, want 1", len(calls))
	}
	c := calls[0]
	parties := []string{c.Caller.Number, c.Callee.Number}
	slices.Sort(parties)
	if !slices.Equal(parties, []string{"192.168.195.50:17718", "192.168.195.58:32144"}) || c.Signalling != spanrec.SignallingNone {
		t.Errorf("skinny: parties %v, signalling %q", parties, c.Signalling)
	}
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "SCCP") }) {
		t.Errorf("skinny: notes %q do not name SCCP", c.Notes)
	}
	if len(c.Streams) != 2 || c.Audio == "" || c.AudioMS < 300 {
		t.Fatalf("skinny: %d streams, audio %q %d ms; want 2 streams with audio", len(c.Streams), c.Audio, c.AudioMS)
	}
	_, ch := readStereo(t, data, c)
	for k := range ch {
		if rms := audio.RMS(ch[k]); rms < 10 {
			t.Errorf("skinny: channel %d RMS %.0f: silent", k, rms)
		}
	}

	_, calls, _ = importFile(t, filepath.Join(dir, "wireshark-samples/marseillaise-srtp.pcap"))
	if len(calls) != 1 {
		t.Fatalf("marseillaise: %d calls, want 1", len(calls))
	}
	c = calls[0]
	if c.Audio != "" || len(c.Streams) != 1 || c.Streams[0].Decoded || c.Streams[0].Encryption != spanrec.SRTP {
		t.Errorf("marseillaise: audio %q, streams %+v; want one SRTP stream, not decoded", c.Audio, c.Streams)
	}

	_, calls, _ = importFile(t, filepath.Join(dir, "ndpi/rtp.pcapng"))
	if len(calls) != 0 {
		t.Errorf("rtp.pcapng (H.263 video, short flows): %d calls, want none", len(calls))
	}
}

// signallessExpected lists the third-party captures where RTP without
// readable signalling is expected to become calls.
var signallessExpected = map[string]int{
	"ndpi/skinny.pcap":                         1,
	"wireshark-samples/marseillaise-srtp.pcap": 1,
}

// TestSignallessFalsePositives imports every third-party capture: apart
// from the RTP without SIP above, none may give a signalless call —
// DNS, QUIC, STUN/DTLS, games, video, IAX and the RTP of SIP calls
// included.
func TestSignallessFalsePositives(t *testing.T) {
	dir := capturesDir(t)
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && captureFile.MatchString(path) {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var udp, files int
	for _, path := range paths {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		frames, err := capture.ReadAll(path)
		if err != nil {
			continue
		}
		files++
		udp += len(frames) - len(filterFrames(frames, func(p *packet.Packet) bool { return p.Proto == packet.ProtoUDP && !isSIP(p) }))
		_, calls, sum := importSignalless(t, path, call.Config{}, 1)
		n := 0
		for _, c := range calls {
			if c.Signalling == spanrec.SignallingNone {
				n++
			}
		}
		if n != signallessExpected[rel] || sum.Assembler.Signalless != n {
			t.Errorf("%s: %d signalless calls, want %d", rel, n, signallessExpected[rel])
		}
	}
	t.Logf("%d captures, %d non-SIP UDP packets: signalless calls only where expected", files, udp)
}

// TestLiveSignalless: live recording (wall-time ticks, journal, flush)
// makes the same signalless calls as the import of the same frames: SIP
// stripped from generated calls, and ndpi/skinny.pcap.
func TestLiveSignalless(t *testing.T) {
	opts := pcaptest.Options{Seed: 23, Calls: []pcaptest.Call{
		{Talk: 6 * time.Second, Caller: pcaptest.Endpoint{Tone: 440}, Callee: pcaptest.Endpoint{Tone: 1000}},
		{Talk: 5 * time.Second, Start: 3 * time.Second, Codec: "PCMA"},
	}}
	sets := map[string][]capture.Frame{"generated": filterFrames(generatedFrames(t, opts), isSIP)}
	if dir := pcaptest.CapturesDir(t); dir != "" {
		sets["skinny"] = loadFrames(t, filepath.Join(dir, "ndpi/skinny.pcap"))
	}
	for name, frames := range sets {
		t.Run(name, func(t *testing.T) {
			want, _ := importShards(t, frames, 1)
			dir := t.TempDir()
			db := openIndex(t, dir)
			l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096, Shards: 2},
				[]capture.Source{&fakeLive{name: "eth1", frames: frames}}, db)
			if err := l.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			got := allCalls(t, db)
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("live: %d calls, import: %d", len(got), len(want))
			}
			for k, c := range got {
				if _, ok := want[k]; !ok || c.Signalling != spanrec.SignallingNone || c.Audio == "" {
					t.Errorf("live call %s (signalling %q, audio %q) not as imported", k, c.Signalling, c.Audio)
				}
			}
		})
	}
}
