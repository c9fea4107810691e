package recorder_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/pcaptest"
)

// conversation is a B2BUA conversation of a legs test, phones numbered by k.
func conversation(k int, direct bool, start time.Duration, headers ...string) pcaptest.B2BUA {
	return pcaptest.B2BUA{
		Caller: pcaptest.Endpoint{Number: "10" + string(rune('0'+k)), SIP: netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + k)}), Tone: 500 + 100*k},
		Callee: pcaptest.Endpoint{Number: "20" + string(rune('0'+k)), SIP: netip.AddrFrom4([4]byte{10, 0, 2, byte(10 + k)}), Tone: 1300 + 100*k},
		PBX:    netip.MustParseAddr("10.0.0.5"), PBXPort: uint16(20000 + 10*k),
		Start: start, Talk: 3 * time.Second, DirectMedia: direct, Headers: headers,
	}
}

// legsOf returns the recorded calls of a conversation's legs.
func legsOf(t *testing.T, s *synth, b []pcaptest.Call) []*spanrec.Call {
	t.Helper()
	var out []*spanrec.Call
	for _, l := range b {
		c := s.calls[l.CallID]
		if c == nil {
			t.Fatalf("leg %s not recorded", l.CallID)
		}
		out = append(out, c)
	}
	return out
}

// checkLinked checks that the calls are the legs of one interaction, the
// earliest's ID, each listing the others.
func checkLinked(t *testing.T, calls ...*spanrec.Call) {
	t.Helper()
	for _, c := range calls {
		if c.Interaction != calls[0].ID {
			t.Errorf("%s: interaction %s, want %s (the first leg's ID)", c.SIPCallID, c.Interaction, calls[0].ID)
		}
		var want []spanrec.CallID
		for _, o := range calls {
			if o != c {
				want = append(want, o.ID)
			}
		}
		if !slices.Equal(c.Legs, want) {
			t.Errorf("%s: legs %v, want %v", c.SIPCallID, c.Legs, want)
		}
	}
}

func checkAlone(t *testing.T, calls ...*spanrec.Call) {
	t.Helper()
	for _, c := range calls {
		if c.Interaction != c.ID || len(c.Legs) != 0 {
			t.Errorf("%s: interaction %s, legs %v; want a call of its own", c.SIPCallID, c.Interaction, c.Legs)
		}
	}
}

// checkLegAudio checks that leg c has streams of both sides, no note that
// blames the mirror, and a recording whose channels carry the caller's and
// the callee's tones through the talk time.
func checkLegAudio(t *testing.T, s *synth, c *spanrec.Call, callerTone, calleeTone int) {
	t.Helper()
	sides := map[spanrec.Side]int{}
	for _, st := range c.Streams {
		sides[st.Side] += st.Packets
	}
	if sides[spanrec.CallerSide] == 0 || sides[spanrec.CalleeSide] == 0 {
		t.Errorf("%s: packets per side %v, want both", c.SIPCallID, sides)
	}
	for _, n := range c.Notes {
		if strings.Contains(n, "mirror") || strings.Contains(n, "no RTP") {
			t.Errorf("%s: note %q", c.SIPCallID, n)
		}
	}
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
		t.Fatal(err)
	}
	r := &recording{rate: info.SampleRate, start: c.AudioStart}
	for k := 0; k+1 < len(pcm); k += 2 {
		r.ch[0] = append(r.ch[0], pcm[k])
		r.ch[1] = append(r.ch[1], pcm[k+1])
	}
	from, to := c.Answer.Add(100*time.Millisecond), c.End.Add(-100*time.Millisecond)
	for k := range 4 {
		a := from.Add(to.Sub(from) * time.Duration(k) / 4)
		b := a.Add(200 * time.Millisecond)
		s.checkTone(t, r, c.SIPCallID+" caller", 0, callerTone, a, b)
		s.checkTone(t, r, c.SIPCallID+" callee", 1, calleeTone, a, b)
	}
}

func TestLegs(t *testing.T) {
	t.Run("direct-media", func(t *testing.T) {
		// No correlation header: the legs share their final SDP's two
		// media endpoints, and the RTP flows once, phone to phone.
		b := conversation(1, true, 0)
		legs := b.Legs(0)
		s := recordOpts(t, pcaptest.Options{Seed: synthSeed, Calls: legs})
		got := legsOf(t, s, legs)
		checkLinked(t, got...)
		for _, c := range got {
			checkLegAudio(t, s, c, b.Caller.Tone, b.Callee.Tone)
		}
		if !slices.ContainsFunc(got[0].LinkKeys, func(k string) bool { return strings.HasPrefix(k, "media:") }) {
			t.Errorf("leg A link keys %q: no media key", got[0].LinkKeys)
		}
	})

	t.Run("through-pbx", func(t *testing.T) {
		// The media goes through the PBX (each leg its own): linked by
		// a correlation header, or not at all.
		x := conversation(1, false, 0, "X-Orig-Call-ID: {a}")
		y := conversation(2, false, 500*time.Millisecond, "P-Charging-Vector: icid-value=1234bc9876e;icid-generated-at=10.0.0.5")
		y.HeadersA = []string{"P-Charging-Vector: icid-value=1234bc9876e"}
		z := conversation(3, false, time.Second,
			"Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000")
		z.HeadersA = []string{"Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000"}
		lone := conversation(4, false, 1500*time.Millisecond)
		var calls []pcaptest.Call
		for i, b := range []pcaptest.B2BUA{x, y, z, lone} {
			calls = append(calls, b.Legs(i)...)
		}
		s := recordOpts(t, pcaptest.Options{Seed: synthSeed, Calls: calls})
		for i, b := range []pcaptest.B2BUA{x, y, z} {
			got := legsOf(t, s, calls[2*i:2*i+2])
			checkLinked(t, got...)
			for _, c := range got {
				checkLegAudio(t, s, c, b.Caller.Tone, b.Callee.Tone)
			}
		}
		checkAlone(t, legsOf(t, s, calls[6:8])...)

		// One row per interaction: the three linked pairs and the two
		// lone legs.
		db := openIndex(t, s.data)
		ctx := context.Background()
		grouped, err := db.Calls(ctx, spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range grouped {
			ids = append(ids, c.SIPCallID)
		}
		want := []string{calls[0].CallID, calls[2].CallID, calls[4].CallID, calls[6].CallID, calls[7].CallID}
		if !slices.Equal(ids, want) {
			t.Errorf("grouped search: %q, want %q", ids, want)
		}
		if n, err := db.Count(ctx, spanrec.CallFilter{GroupInteraction: true}); err != nil || n != 5 {
			t.Errorf("grouped count %d (%v), want 5", n, err)
		}
		// A number of the second leg only finds that leg's interaction.
		byNum, err := db.Calls(ctx, spanrec.CallFilter{Number: "203", GroupInteraction: true})
		if err != nil || len(byNum) != 1 || byNum[0].Interaction != s.calls[calls[4].CallID].ID {
			t.Errorf("grouped search by number 203: %d calls (%v)", len(byNum), err)
		}
		legsOfX, err := db.Calls(ctx, spanrec.CallFilter{Interaction: s.calls[calls[0].CallID].ID})
		if err != nil || len(legsOfX) != 2 {
			t.Errorf("interaction search: %d calls (%v), want 2", len(legsOfX), err)
		}
	})

	t.Run("transfer", func(t *testing.T) {
		// Attended transfer: A talks to B (X), consults C (Y), and sends B
		// a REFER whose Refer-To names C with Replaces=Y; B calls C (Z)
		// with Replaces: Y and Referred-By: A. X, Y and Z are one
		// interaction.
		a := pcaptest.Endpoint{Number: "1001", SIP: mustAddr("10.0.1.1"), Tone: 500}
		b := pcaptest.Endpoint{Number: "1002", SIP: mustAddr("10.0.1.2"), Tone: 900}
		c := pcaptest.Endpoint{Number: "1003", SIP: mustAddr("10.0.1.3"), Tone: 1500}
		x := pcaptest.Call{CallID: "xfer-x@10.0.1.1", Caller: a, Callee: b, Talk: 6 * time.Second,
			Refer: &pcaptest.Refer{At: 4 * time.Second, To: "<sip:1003@10.0.1.3?Replaces=xfer-y%4010.0.1.1%3Bto-tag%3D7743%3Bfrom-tag%3D6472>"}}
		a2, c2 := a, c
		a2.RTP, c2.RTP = mustAddrPort("10.0.1.1:17000"), mustAddrPort("10.0.1.3:17002")
		y := pcaptest.Call{CallID: "xfer-y@10.0.1.1", Caller: a2, Callee: c2, Start: 2 * time.Second, Talk: 3500 * time.Millisecond}
		b3, c3 := b, c
		b3.RTP, c3.RTP = mustAddrPort("10.0.1.2:18000"), mustAddrPort("10.0.1.3:18002")
		z := pcaptest.Call{CallID: "xfer-z@10.0.1.2", Caller: b3, Callee: c3, Start: 5200 * time.Millisecond, Ring: 200 * time.Millisecond,
			Headers: []string{"Replaces: xfer-y@10.0.1.1;to-tag=7743;from-tag=6472", "Referred-By: <sip:1001@10.0.1.1>"}}
		s := record(t, x, y, z)
		checkLinked(t, legsOf(t, s, []pcaptest.Call{x, y, z})...)
	})

	t.Run("blind-transfer", func(t *testing.T) {
		// A transfers B to C without consulting: REFER Refer-To C; B calls
		// C with Referred-By: A.
		a := pcaptest.Endpoint{Number: "1001", SIP: mustAddr("10.0.1.1"), Tone: 500}
		b := pcaptest.Endpoint{Number: "1002", SIP: mustAddr("10.0.1.2"), Tone: 900}
		c := pcaptest.Endpoint{Number: "1003", SIP: mustAddr("10.0.1.3"), RTP: mustAddrPort("10.0.1.3:18002"), Tone: 1500}
		b2 := b
		b2.RTP = mustAddrPort("10.0.1.2:18000")
		x := pcaptest.Call{CallID: "blind-x@10.0.1.1", Caller: a, Callee: b, Talk: 4 * time.Second,
			Refer: &pcaptest.Refer{At: 3 * time.Second, To: "<sip:1003@10.0.1.3>"}}
		z := pcaptest.Call{CallID: "blind-z@10.0.1.2", Caller: b2, Callee: c, Start: 4100 * time.Millisecond,
			Headers: []string{"Referred-By: <sip:1001@10.0.1.1>"}}
		// An unrelated call from the same phone later: not linked.
		later := pcaptest.Call{CallID: "later@10.0.1.2", Caller: b2, Callee: c, Start: 40 * time.Second}
		s := record(t, x, z, later)
		got := legsOf(t, s, []pcaptest.Call{x, z, later})
		checkLinked(t, got[:2]...)
		checkAlone(t, got[2])
	})

	t.Run("real-captures", func(t *testing.T) {
		// No false links in the third-party captures: their calls are
		// unrelated (aaa.pcap's retries, nb6's calls one after another).
		for _, name := range corpus {
			_, calls, _ := importFile(t, filepath.Join(pcaptest.CapturesDir(t), filepath.FromSlash(name)))
			for _, c := range calls {
				if len(c.Legs) > 0 || c.Interaction != c.ID {
					t.Errorf("%s: call %s linked to %v (interaction %s), keys %q", name, c.SIPCallID, c.Legs, c.Interaction, c.LinkKeys)
				}
			}
		}
	})
}
