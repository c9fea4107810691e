package sipmsg_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spanrec/spanrec/pcaptest"
)

// capturesDir returns the shared third-party captures folder: $SPANREC_CAPTURES, or ../shared/captures
// beside the repository root (the directory holding go.mod). It skips the test when there is none.
func capturesDir(tb testing.TB) string {
	tb.Helper()
	return pcaptest.CapturesDir(tb)
}

// datagram is one transport payload of a capture.
type datagram struct {
	frame   int // 1-based frame number, as tshark counts
	tcp     bool
	flow    string // src→dst, for TCP stream direction
	payload []byte
}

// readDatagrams returns the UDP and TCP payloads of every frame of the capture at path (pcap or pcapng),
// whatever the link type; IPv6 fragments are reassembled, tunnels gopacket decodes (IP-in-IP, GRE) are
// followed to the innermost transport layer.
func readDatagrams(tb testing.TB, path string) []datagram {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var (
		src      source
		linkType func() layers.LinkType
	)
	// Some captures named .pcap are pcapng: go by the magic number (pcapng Section Header Block type).
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		tb.Fatal(err)
	}
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		src, linkType = r, r.LinkType
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		src, linkType = r, r.LinkType
	}
	defrag := ip6defrag.NewIPv6Defragmenter()
	var out []datagram
	for frame := 1; ; frame++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s frame %d: %v", path, frame, err)
		}
		pkt := gopacket.NewPacket(data, linkType(), gopacket.Default)
		if fg, ok := pkt.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
			ip6, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
			if ip6 == nil {
				continue
			}
			whole := defrag.DefragIPv6(ip6, fg)
			if whole == nil {
				continue
			}
			var next gopacket.Decoder = layers.LayerTypeUDP
			if whole.NextHeader == layers.IPProtocolTCP {
				next = layers.LayerTypeTCP
			}
			pkt = gopacket.NewPacket(whole.Payload, next, gopacket.Default)
		}
		var flow string
		if nl := pkt.NetworkLayer(); nl != nil {
			flow = nl.NetworkFlow().String()
		}
		switch tl := pkt.TransportLayer().(type) {
		case *layers.UDP:
			out = append(out, datagram{frame: frame, flow: flow + "/" + tl.TransportFlow().String(), payload: tl.Payload})
		case *layers.TCP:
			if len(tl.Payload) > 0 {
				out = append(out, datagram{frame: frame, tcp: true, flow: flow + "/" + tl.TransportFlow().String(), payload: tl.Payload})
			}
		}
	}
	return out
}

// expectation is tshark's view of a capture, from its .expect.txt.
type expectation struct {
	messages int            // "Number of SIP messages"
	methods  map[string]int // "List of SIP Request methods"
	statuses map[int]int    // "SIP Status Codes in reply packets"
	calls    map[string]int // "Call-ID\tMETHOD" or "Call-ID\tCODE" → count, from "## SIP calls"
}

// readExpectation parses the "-z sip,stat" and "## SIP calls" sections of a tshark .expect.txt file.
func readExpectation(tb testing.TB, path string) expectation {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	e := expectation{methods: map[string]int{}, statuses: map[int]int{}, calls: map[string]int{}}
	section, sub := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		switch {
		case strings.HasPrefix(section, "## -z sip,stat"):
			trimmed := strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(trimmed, "Number of SIP messages:"); ok {
				e.messages, _ = strconv.Atoi(strings.TrimSpace(rest))
			}
			if strings.HasPrefix(trimmed, "* ") {
				sub = trimmed
				continue
			}
			name, count, ok := strings.Cut(trimmed, ":")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(strings.Fields(count)[0])
			if err != nil {
				continue
			}
			switch {
			case strings.HasPrefix(sub, "* SIP Status Codes"):
				// "SIP 200 OK              :     3 Packets"
				fields := strings.Fields(name)
				if len(fields) >= 2 {
					code, err := strconv.Atoi(fields[1])
					if err == nil {
						e.statuses[code] += n
					}
				}
			case strings.HasPrefix(sub, "* List of SIP Request methods"):
				e.methods[strings.TrimSpace(name)] += n
			}
		case strings.HasPrefix(section, "## SIP calls"):
			// "      2 Call-ID\tMETHOD\tCODE" (uniq -c output; one of METHOD and CODE is empty)
			trimmed := strings.TrimLeft(line, " ")
			countStr, rest, ok := strings.Cut(trimmed, " ")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(countStr)
			if err != nil {
				continue
			}
			parts := strings.Split(rest, "\t")
			if len(parts) < 3 {
				continue
			}
			what := parts[1]
			if what == "" {
				what = parts[2]
			}
			if parts[0] == "" && what == "" {
				// tshark lists frames it dissected as SIP by port alone (HTTP on 5060) with every field empty;
				// its sip,stat does not count them as SIP messages, nor do we.
				continue
			}
			e.calls[parts[0]+"\t"+what] += n
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return e
}
