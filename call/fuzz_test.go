package call_test

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// FuzzAssembler feeds arbitrary datagrams, mixed with the SIP and RTP of a
// real (synthetic) call, through the assembler: it must never panic and
// must finish every call it started.
func FuzzAssembler(f *testing.F) {
	src, err := capture.OpenFile("../testdata/demo.pcap")
	if err != nil {
		f.Fatal(err)
	}
	dec := packet.NewDecoder(packet.Config{})
	var seeds [][]byte
	for len(seeds) < 64 {
		fr, err := src.ReadFrame()
		if err != nil {
			break
		}
		if p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig); ok {
			seeds = append(seeds, append([]byte(nil), p.Payload...))
		}
	}
	src.Close()
	for _, s := range seeds {
		f.Add(s, uint8(0))
	}
	f.Add([]byte("INVITE sip:1@h SIP/2.0\r\ni: x\r\nf: <sip:2@h>;tag=1\r\nt: <sip:1@h>\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\n\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 8 9 101\r\n"), uint8(1))
	f.Add([]byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff}, uint8(2))

	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		dir := t.TempDir()
		finished := 0
		a := call.NewAssembler(call.Config{DataDir: dir}, func(*call.Finished) { finished++ })
		addrs := []netip.AddrPort{
			netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:5060"),
			netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:4002"),
		}
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		feed := func(i int, b []byte) {
			p := packet.Packet{
				Time: t0.Add(time.Duration(i) * 20 * time.Millisecond),
				Src:  addrs[(i+int(sel))%4], Dst: addrs[(i+int(sel)+1)%4],
				Proto: 17, Payload: b, Frame: b, Link: packet.LinkRaw,
			}
			if sipmsg.Looks(b) {
				if m, err := sipmsg.Parse(b); err == nil {
					a.HandleSIP(m, &p)
				}
				return
			}
			a.HandleMedia(&p)
		}
		for i, s := range seeds {
			if i%3 == int(sel)%3 {
				feed(i, s)
			}
		}
		for i := 0; i < len(data); i += 37 {
			feed(i, data[i:min(i+200, len(data))])
		}
		feed(0, data)
		a.Expire(t0.Add(time.Minute))
		started := a.Stats().Calls
		a.Close()
		if finished != started {
			t.Fatalf("%d calls started, %d finished", started, finished)
		}
		if a.Active() != 0 {
			t.Fatalf("%d calls still active after Close", a.Active())
		}
		// Finished calls leave their files; nothing else may be left open.
		if _, err := os.ReadDir(dir); err != nil {
			t.Fatal(err)
		}
	})
}
