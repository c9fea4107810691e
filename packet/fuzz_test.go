package packet

import (
	"path/filepath"
	"testing"
	"time"
)

// fuzzSeedFiles are the captures whose frames seed FuzzDecode.
var fuzzSeedFiles = []string{
	"sngrep/ipv6frag.pcap",
	"sngrep/ipip.pcap",
	"heplify/ipip0.pcap",
	"ndpi/gre.pcapng",
	"ndpi/vxlan.pcap",
	"wireshark-samples/h263-over-rtp.pcap",
	"ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap",
	"gopacket/le_test202.pcapng",
	"gopacket/linux_sll_oversized_addr.pcapng",
	"gopacket/test_loopback.pcap",
}

// FuzzDecode feeds arbitrary frames of arbitrary link types to a Decoder:
// it must never panic, and what it returns must be consistent.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases() {
		f.Add(tc.frame, uint32(tc.link))
	}
	for _, fr := range frags4(9, sipMessage(2000), 1480, 64, 10) {
		f.Add(fr, uint32(LinkEthernet))
	}
	for _, fr := range frags6(9, sipMessage(2000), 1232, 64) {
		f.Add(fr, uint32(LinkLinuxSLL2))
	}
	if dir, _ := findCaptures(); dir != "" {
		for _, name := range fuzzSeedFiles {
			frames := readCapture(f, filepath.Join(dir, name))
			for i, fr := range frames {
				if i == 12 {
					break
				}
				f.Add(fr.data, uint32(fr.link))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, link uint32) {
		d := NewDecoder(Config{})
		// Three times: the second copy meets the dedup window or, for a
		// fragment, the defragmenter's repeated-fragment check; the third
		// comes after both time out.
		for i, at := range []time.Duration{0, time.Millisecond, time.Minute} {
			p, ok := d.Decode(data, LinkType(link), t0.Add(at), len(data))
			if !ok {
				continue
			}
			if p.Proto != ProtoUDP && p.Proto != ProtoTCP {
				t.Fatalf("decode %d: proto %d", i, p.Proto)
			}
			if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
				t.Fatalf("decode %d: addresses %v > %v", i, p.Src, p.Dst)
			}
			if p.NVLAN < 0 || p.NVLAN > 2 || len(p.Payload) > len(data) && p.Fragments == nil {
				t.Fatalf("decode %d: NVLAN %d, payload %d of a %d-byte frame", i, p.NVLAN, len(p.Payload), len(data))
			}
		}
		st := d.Stats()
		if st.Frames != 3 || st.Decoded+st.NonIP+st.NonL4+st.Truncated+st.Duplicates+st.FragmentsDropped+st.UnsupportedLink+st.Fragments < 3 {
			t.Fatalf("frames not accounted for: %+v", st)
		}
	})
}
