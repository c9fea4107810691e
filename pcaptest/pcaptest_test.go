package pcaptest_test

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec/g722"
	"github.com/spanrec/spanrec/pcaptest"
)

// featureCalls exercises every option at least once, in short calls.
func featureCalls() []pcaptest.Call {
	ap := netip.MustParseAddrPort
	ip := netip.MustParseAddr
	return []pcaptest.Call{
		{Transport: "tcp", Talk: 2 * time.Second, DTMFInfo: "7"},
		{Start: 100 * time.Millisecond, FragmentInvite: true, Talk: 2 * time.Second, Caller: pcaptest.Endpoint{Tone: 700}, Callee: pcaptest.Endpoint{Tone: 1700}},
		{Start: 200 * time.Millisecond, VLAN: []uint16{100, 200}, Duplicate: true, Talk: 2 * time.Second},
		{
			Start:  300 * time.Millisecond,
			Caller: pcaptest.Endpoint{SIP: ip("2001:db8::1"), RTP: ap("[2001:db8::1]:30000"), Tone: 350},
			Callee: pcaptest.Endpoint{SIP: ip("2001:db8::2"), RTP: ap("[2001:db8::2]:30002"), Tone: 2500},
			Codec:  "PCMA", Talk: 2 * time.Second,
		},
		{Start: 400 * time.Millisecond, Loss: 0.05, Reorder: 0.05, Talk: 3 * time.Second},
		{
			Start: 500 * time.Millisecond, Talk: 4 * time.Second,
			CallerNAT: ap("198.51.100.7:62000"),
			Hold:      &pcaptest.Hold{At: time.Second, Length: time.Second, NewCallerRTP: ap("10.0.1.1:18000")},
		},
		{Start: 600 * time.Millisecond, EarlyMedia: true, Outcome: pcaptest.Cancelled, Ring: 1500 * time.Millisecond},
		{Start: 700 * time.Millisecond, Outcome: pcaptest.Failed},
		{Start: 800 * time.Millisecond, Codec: "G722", PTime: 30 * time.Millisecond, DTMF: "19#", DTMFInfo: "*0", Talk: 4 * time.Second},
		{Start: 900 * time.Millisecond, VLAN: []uint16{42}, SIPPort: 5080, Outcome: pcaptest.Busy},
		{Start: 950 * time.Millisecond, Outcome: pcaptest.NoAnswer, Transport: "tcp", FragmentInvite: false},
	}
}

func write(t testing.TB, o pcaptest.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := pcaptest.Write(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rtpPacket is an RTP packet found in a capture.
type rtpPacket struct {
	at      time.Time
	src     netip.AddrPort
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	marker  bool
	payload []byte
}

// decode parses every frame of a capture with gopacket and returns the RTP
// packets (UDP payloads of version 2), the number of frames and the SIP
// messages (UDP payloads starting with a letter).
func decode(t *testing.T, capture []byte) (rtp []rtpPacket, frames int, sip []string) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	var last time.Time
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		frames++
		if ci.Timestamp.Before(last) {
			t.Fatalf("frame %d at %v before previous %v", frames, ci.Timestamp, last)
		}
		last = ci.Timestamp
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("frame %d: %v", frames, el.Error())
		}
		udp, ok := p.TransportLayer().(*layers.UDP)
		if !ok || len(udp.Payload) == 0 {
			continue
		}
		b := udp.Payload
		if b[0]>>6 != 2 {
			if b[0] >= 'A' && b[0] <= 'Z' {
				sip = append(sip, string(b))
			}
			continue
		}
		if len(b) < 12 {
			t.Fatalf("frame %d: short RTP", frames)
		}
		src, _ := netip.AddrFromSlice(p.NetworkLayer().NetworkFlow().Src().Raw())
		rtp = append(rtp, rtpPacket{
			at:      ci.Timestamp,
			src:     netip.AddrPortFrom(src.Unmap(), uint16(udp.SrcPort)),
			pt:      b[1] & 0x7f,
			marker:  b[1]&0x80 != 0,
			seq:     binary.BigEndian.Uint16(b[2:]),
			ts:      binary.BigEndian.Uint32(b[4:]),
			ssrc:    binary.BigEndian.Uint32(b[8:]),
			payload: b[12:],
		})
	}
	return rtp, frames, sip
}

func TestWriteParsesAndMatchesExpected(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls []pcaptest.Call
	}{
		{"demo", pcaptest.Demo()},
		{"features", featureCalls()},
		{"concurrent", pcaptest.Concurrent(20, time.Second, 2*time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pcaptest.Options{Seed: 7, Calls: tc.calls}
			rtp, _, _ := decode(t, write(t, o))
			exp, err := pcaptest.Expected(o)
			if err != nil {
				t.Fatal(err)
			}
			bySSRC := map[uint32]int{}
			for _, p := range rtp {
				bySSRC[p.ssrc]++
			}
			streams := 0
			for _, e := range exp {
				for _, s := range e.Call.Streams {
					streams++
					if got, want := bySSRC[s.SSRC], s.Packets+s.Duplicates; got != want {
						t.Errorf("call %s %s stream %08x: %d packets in capture, Expected says %d", e.Call.SIPCallID, s.Side, s.SSRC, got, want)
					}
				}
			}
			if streams != len(bySSRC) {
				t.Errorf("%d SSRCs in capture, Expected lists %d streams", len(bySSRC), streams)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	o := pcaptest.Options{Seed: 3, Calls: featureCalls()}
	a, b := write(t, o), write(t, o)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same options differ")
	}
	o.Seed = 4
	if bytes.Equal(a, write(t, o)) {
		t.Fatal("another seed gives the same capture")
	}
}

func TestExpectedDemo(t *testing.T) {
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	exp, err := pcaptest.Expected(pcaptest.Options{Seed: 1, Calls: pcaptest.Demo()})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status    spanrec.Status
		code      int
		dir       spanrec.Direction
		talk      time.Duration
		streams   int
		dtmf      string
		dtmfSrc   string
		codec     string
		callerNum string
	}
	wants := []want{
		{spanrec.Answered, 200, spanrec.Inbound, 6 * time.Second, 2, "", "", "PCMU", "+15555550123"},
		{spanrec.Answered, 200, spanrec.Outbound, 6 * time.Second, 2, "1234#", "rfc4733", "PCMA", "202"},
		{spanrec.Answered, 200, spanrec.Internal, 8 * time.Second, 2, "", "", "G722", "203"},
		{spanrec.Busy, 486, spanrec.Inbound, 0, 0, "", "", "PCMU", "+15555550145"},
		{spanrec.Cancelled, 487, spanrec.Outbound, 0, 0, "", "", "PCMU", "202"},
		{spanrec.Answered, 200, spanrec.Inbound, 5 * time.Second, 2, "42", "sip-info", "PCMU", "205"},
		{spanrec.NoAnswer, 480, spanrec.Internal, 0, 0, "", "", "PCMU", "204"},
	}
	if len(exp) != len(wants) {
		t.Fatalf("%d calls, want %d", len(exp), len(wants))
	}
	for i, w := range wants {
		c := exp[i].Call
		var digits strings.Builder
		for _, d := range c.DTMF {
			digits.WriteString(d.Digit)
			if d.Source != w.dtmfSrc || d.Side != spanrec.CallerSide {
				t.Errorf("call %d: DTMF %+v, want source %s", i, d, w.dtmfSrc)
			}
		}
		if c.Status != w.status || c.StatusCode != w.code || c.Direction != w.dir || c.Duration != w.talk ||
			len(c.Streams) != w.streams || digits.String() != w.dtmf || c.Codecs[0] != w.codec || c.Caller.Number != w.callerNum {
			t.Errorf("call %d: got %s %d %s talk %v, %d streams, DTMF %q, %v, caller %s; want %+v",
				i, c.Status, c.StatusCode, c.Direction, c.Duration, len(c.Streams), digits.String(), c.Codecs, c.Caller.Number, w)
		}
		if c.ID != spanrec.NewCallID(c.SIPCallID, c.Start) || c.Start.Before(start) {
			t.Errorf("call %d: ID %s start %v", i, c.ID, c.Start)
		}
		for _, s := range c.Streams {
			// A stream sends one packet per 20 ms while it is active.
			if s.Packets < int(2*time.Second/(20*time.Millisecond)) || s.Lost != 0 || s.First.After(s.Last) {
				t.Errorf("call %d stream %s: %d packets, %d lost, %v..%v", i, s.Side, s.Packets, s.Lost, s.First, s.Last)
			}
		}
	}
	// The teleworker's packets come from the NAT's public address.
	if got := exp[5].Call.Caller.Addr; got != netip.MustParseAddr("203.0.113.50") {
		t.Errorf("NAT caller address %v", got)
	}
	if got := exp[5].Call.Streams[0].Src; got != netip.MustParseAddrPort("203.0.113.50:61000") {
		t.Errorf("NAT caller RTP source %v", got)
	}
	// Hold: the callee (held) sends 2.5 s less than the caller.
	hold := exp[2].Call.Streams
	if d := hold[0].Packets - hold[1].Packets; d < 120 || d > 130 {
		t.Errorf("hold: caller %d packets, callee %d", hold[0].Packets, hold[1].Packets)
	}
}

func TestLossAndReorder(t *testing.T) {
	o := pcaptest.Options{Seed: 11, Calls: []pcaptest.Call{{Loss: 0.1, Reorder: 0.1, Talk: 10 * time.Second}}}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	rtp, _, _ := decode(t, write(t, o))
	for _, s := range exp[0].Call.Streams {
		var seqs []int
		base := -1
		for _, p := range rtp {
			if p.ssrc != s.SSRC {
				continue
			}
			if base < 0 {
				base = int(p.seq) - 100 // room for reordering; the test seeds do not wrap
			}
			seqs = append(seqs, int(uint16(int(p.seq)-base)))
		}
		ooo, hi := 0, -1
		for _, q := range seqs {
			if q < hi {
				ooo++
			}
			hi = max(hi, q)
		}
		lost := slices.Max(seqs) - slices.Min(seqs) + 1 - len(seqs)
		if len(seqs) != s.Packets || lost != s.Lost || ooo != s.OutOfOrder {
			t.Errorf("%s: capture has %d packets, %d lost, %d out of order; Expected %d, %d, %d",
				s.Side, len(seqs), lost, ooo, s.Packets, s.Lost, s.OutOfOrder)
		}
		// 500 packets sent: about 50 lost and 45 reordered.
		if s.Lost < 25 || s.Lost > 80 || s.OutOfOrder < 20 || s.OutOfOrder > 80 || !exp[0].Call.CaptureLoss {
			t.Errorf("%s: %d lost, %d out of order for 10%% each", s.Side, s.Lost, s.OutOfOrder)
		}
	}
}

func TestRTPHeaders(t *testing.T) {
	o := pcaptest.Options{Seed: 5, Calls: featureCalls()[8:9]} // G.722, 30 ms, DTMF
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	rtp, _, _ := decode(t, write(t, o))
	caller := exp[0].Call.Streams[0]
	var events []rtpPacket
	var prev *rtpPacket
	for i := range rtp {
		p := &rtp[i]
		if p.ssrc != caller.SSRC {
			continue
		}
		if prev == nil && !p.marker {
			t.Error("first packet without marker")
		}
		if prev != nil && p.seq != prev.seq+1 {
			t.Fatalf("seq %d after %d", p.seq, prev.seq)
		}
		if p.pt == 101 {
			events = append(events, *p)
		} else if p.pt != 9 || len(p.payload) != 240 {
			t.Fatalf("audio packet PT %d, %d bytes", p.pt, len(p.payload))
		} else if prev != nil && prev.pt == 9 && p.ts-prev.ts != 240 {
			t.Fatalf("timestamp step %d, want 240 (30 ms at 8000 Hz)", p.ts-prev.ts)
		}
		prev = p
	}
	// Three digits, each: updates with growing duration, then 3 end packets
	// (RFC 4733 §2.5.1.4), all at the event's timestamp.
	var digits []byte
	for i := 0; i < len(events); {
		e := events[i]
		if !e.marker {
			t.Fatalf("event %d starts without marker", len(digits))
		}
		digits = append(digits, e.payload[0])
		j, ends, lastDur := i, 0, uint16(0)
		for ; j < len(events) && events[j].ts == e.ts; j++ {
			d := binary.BigEndian.Uint16(events[j].payload[2:])
			if d < lastDur {
				t.Errorf("duration shrinks %d → %d", lastDur, d)
			}
			lastDur = d
			if events[j].payload[1]&0x80 != 0 {
				ends++
			}
		}
		if ends != 3 || lastDur != 720 {
			t.Errorf("digit %d: %d end packets, duration %d; want 3 and 720 (3×30 ms)", e.payload[0], ends, lastDur)
		}
		i = j
	}
	if !bytes.Equal(digits, []byte{1, 9, 11}) {
		t.Errorf("events %v, want 1 9 11", digits)
	}
}

// goertzel returns the power of frequency f (Hz) in x sampled at rate.
func goertzel(x []float64, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// dominant returns the frequency, in 5 Hz steps up to the Nyquist limit,
// with the most power in x.
func dominant(x []float64, rate float64) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f < rate/2-100; f += 5 {
		if p := goertzel(x, f, rate); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// ulaw and alaw decode G.711 (ITU-T G.711 Tables 2a/2b), written here
// independently of codec/g711 to check its encoders.
func ulaw(b byte) float64 {
	b = ^b
	v := (int(b&0x0f)<<3+0x84)<<(b>>4&7) - 0x84
	if b&0x80 != 0 {
		return float64(-v)
	}
	return float64(v)
}

func alaw(b byte) float64 {
	b ^= 0x55
	seg, mant := int(b>>4&7), int(b&0x0f)
	mag := mant<<4 + 8
	if seg > 0 {
		mag = (mant<<4 + 0x108) << (seg - 1)
	}
	if b&0x80 == 0 {
		return float64(-mag)
	}
	return float64(mag)
}

func TestTones(t *testing.T) {
	calls := featureCalls()
	calls = append(calls, pcaptest.Concurrent(3, 0, 2*time.Second)...)
	o := pcaptest.Options{Seed: 9, Calls: calls}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	rtp, _, _ := decode(t, write(t, o))
	for i, e := range exp {
		for _, s := range e.Call.Streams {
			pcm, rate := streamPCM(rtp, s)
			want := e.CallerTone
			if s.Side == spanrec.CalleeSide {
				want = e.CalleeTone
			}
			if len(pcm) < int(rate) {
				t.Fatalf("call %d %s: %d samples", i, s.Side, len(pcm))
			}
			if e.Call.Status != spanrec.Answered { // early media only: ringback
				want = 425
				pcm = pcm[:int(rate)/2]
			}
			tail := pcm[len(pcm)-int(rate)/2:]
			if got := dominant(tail, rate); math.Abs(got-float64(want)) > 5 {
				t.Errorf("call %d %s (%s): dominant %v Hz, want %d", i, s.Side, s.Codec, got, want)
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	calls := pcaptest.Concurrent(1000, 10*time.Second, time.Minute)
	tones := map[int]bool{}
	ports := map[netip.AddrPort]bool{}
	for i, c := range calls {
		for _, f := range []int{c.Caller.Tone, c.Callee.Tone} {
			if tones[f] {
				t.Errorf("call %d: tone %d used twice", i, f)
			}
			tones[f] = true
		}
		for k := 2; k*c.Caller.Tone < 4000; k++ {
			if d := c.Callee.Tone - k*c.Caller.Tone; d > -15 && d < 15 {
				t.Errorf("call %d: callee %d Hz near harmonic %d of caller %d Hz", i, c.Callee.Tone, k, c.Caller.Tone)
			}
		}
		for _, p := range []netip.AddrPort{c.Caller.RTP, c.Callee.RTP} {
			if ports[p] {
				t.Errorf("call %d: RTP address %v used twice", i, p)
			}
			ports[p] = true
		}
		if c.Start < 0 || c.Start >= 10*time.Second || c.Talk != time.Minute {
			t.Errorf("call %d: start %v talk %v", i, c.Start, c.Talk)
		}
	}
	if calls[999].Caller.Number != "1999" || calls[999].Callee.Number != "2999" {
		t.Errorf("numbers %s → %s", calls[999].Caller.Number, calls[999].Callee.Number)
	}
}

func TestInvalidOptions(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::1")
	for name, c := range map[string]pcaptest.Call{
		"codec":          {Codec: "GSM"},
		"g729 no frames": {Codec: "G729"},
		"mixed families": {Caller: pcaptest.Endpoint{SIP: v6}},
		"transport":      {Transport: "sctp"},
		"fragment tcp":   {Transport: "tcp", FragmentInvite: true},
		"three tags":     {VLAN: []uint16{1, 2, 3}},
		"vlan 4095":      {VLAN: []uint16{4095}},
		"loss":           {Loss: 1},
		"digit":          {DTMF: "12x"},
		"dtmf too long":  {DTMF: "1234567890", Talk: 2 * time.Second},
		"hold too late":  {Hold: &pcaptest.Hold{At: 2 * time.Second}},
		"hold busy":      {Outcome: pcaptest.Busy, Hold: &pcaptest.Hold{At: time.Second}},
		"ptime":          {PTime: 7 * time.Millisecond},
		"tone":           {Caller: pcaptest.Endpoint{Tone: 5000}},
		"encoded size":   {Codec: "GSM", Encoded: &pcaptest.Encoded{PT: 3, PacketBytes: 33, Caller: make([]byte, 34), Callee: make([]byte, 33)}},
		"encoded pt":     {Codec: "GSM", Encoded: &pcaptest.Encoded{PT: 101, PacketBytes: 33, Caller: make([]byte, 33), Callee: make([]byte, 33)}},
		"encoded early":  {Codec: "GSM", EarlyMedia: true, Encoded: &pcaptest.Encoded{PT: 3, PacketBytes: 33, Caller: make([]byte, 33), Callee: make([]byte, 33)}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			err := pcaptest.Write(&b, pcaptest.Options{Calls: []pcaptest.Call{c}})
			if err == nil || !strings.HasPrefix(err.Error(), "pcaptest: ") {
				t.Fatalf("error %v", err)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written before the error", b.Len())
			}
		})
	}
}

func TestReadFrames(t *testing.T) {
	capture := write(t, pcaptest.Options{Calls: featureCalls()[:2]})
	frames, err := pcaptest.ReadFrames(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := decode(t, capture)
	if len(frames) != n || n == 0 {
		t.Fatalf("%d frames, want %d", len(frames), n)
	}
}

func FuzzReadFrames(f *testing.F) {
	f.Add(write(f, pcaptest.Options{Calls: []pcaptest.Call{{Talk: 200 * time.Millisecond, Outcome: pcaptest.Busy}}}))
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, _ := pcaptest.ReadFrames(bytes.NewReader(b))
		total := 0
		for _, fr := range frames {
			total += len(fr)
		}
		if total > len(b) {
			t.Fatalf("%d frame bytes from %d input bytes", total, len(b))
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	o := pcaptest.Options{Seed: 1, Calls: pcaptest.Concurrent(100, time.Second, 5*time.Second)}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		b.Fatal(err)
	}
	size := buf.Len()
	frames, err := pcaptest.ReadFrames(&buf)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	n := 0
	for b.Loop() {
		if err := pcaptest.Write(io.Discard, o); err != nil {
			b.Fatal(err)
		}
		n += len(frames)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
}

// streamPCM decodes the audio of stream s from the capture's RTP packets
// (G.711 or G.722), in sequence order, one copy of each packet, and returns
// it with its sample rate.
func streamPCM(rtp []rtpPacket, s spanrec.Stream) ([]float64, float64) {
	var pkts []rtpPacket
	for _, p := range rtp {
		if p.ssrc == s.SSRC && p.pt == s.PayloadType {
			pkts = append(pkts, p)
		}
	}
	// Sequence order, and one copy of each when duplicated.
	slices.SortStableFunc(pkts, func(a, b rtpPacket) int { return cmp.Compare(a.seq-pkts[0].seq, b.seq-pkts[0].seq) })
	pkts = slices.CompactFunc(pkts, func(a, b rtpPacket) bool { return a.seq == b.seq })
	var pcm []float64
	rate := 8000.0
	switch s.Codec {
	case "PCMU", "PCMA":
		dec := ulaw
		if s.Codec == "PCMA" {
			dec = alaw
		}
		for _, p := range pkts {
			for _, b := range p.payload {
				pcm = append(pcm, dec(b))
			}
		}
	case "G722":
		rate = 16000
		d := g722.NewDecoder()
		var out []int16
		for _, p := range pkts {
			out, _ = d.Decode(out, p.payload)
		}
		for _, v := range out {
			pcm = append(pcm, float64(v))
		}
	}
	return pcm, rate
}

// TestDemoVoices checks that the demo's parties speak: each answered
// stream has voiced stretches with energy in the formant bands and vowels
// that change, and pauses; and that a tone (a test scenario's party) does
// not pass for speech.
func TestDemoVoices(t *testing.T) {
	o := pcaptest.Options{Seed: 1, Calls: pcaptest.Demo()}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	rtp, _, _ := decode(t, write(t, o))
	voices := 0
	for i, e := range exp {
		if e.Call.Status != spanrec.Answered {
			continue
		}
		for _, s := range e.Call.Streams {
			voice := e.CallerVoice
			if s.Side == spanrec.CalleeSide {
				voice = e.CalleeVoice
			}
			if voice == 0 {
				t.Errorf("demo call %d %s: no voice", i, s.Side)
				continue
			}
			voices++
			pcm, rate := streamPCM(rtp, s)
			sp := pcaptest.AnalyseSpeech(pcm, int(rate))
			t.Logf("call %d %s (%s, %d Hz voice): %+v", i, s.Side, s.Codec, voice, sp)
			if err := sp.Check(); err != nil {
				t.Errorf("demo call %d %s: %v", i, s.Side, err)
			}
		}
	}
	if voices != 8 {
		t.Errorf("%d speaking streams in the demo, want 8 (4 answered calls × 2)", voices)
	}

	// A party with a tone is not speech.
	o = pcaptest.Options{Seed: 1, Calls: []pcaptest.Call{{Talk: 3 * time.Second}}}
	exp, err = pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	rtp, _, _ = decode(t, write(t, o))
	pcm, rate := streamPCM(rtp, exp[0].Call.Streams[0])
	sp := pcaptest.AnalyseSpeech(pcm, int(rate))
	if sp.PeakShare < 0.9 || sp.Pauses != 0 || sp.CentroidSpreadHz > 20 || sp.Check() == nil {
		t.Errorf("a 440 Hz tone analysed as %+v: want one peak, no pause, a steady centroid", sp)
	}
}
