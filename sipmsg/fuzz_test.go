package sipmsg_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// seeds returns the torture messages and a few synthetic ones.
func seeds(f *testing.F) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "torture", "*.sip"))
	if err != nil {
		f.Fatal(err)
	}
	out := [][]byte{[]byte(invite(inviteSDP)), []byte("SIP/2.0 200 OK\nCall-ID: x\nl: 3\n\nabc")}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := sipmsg.Parse(b)
		if err != nil {
			if m != nil {
				t.Fatal("non-nil Message with an error")
			}
			return
		}
		if m.CallID == "" {
			t.Fatal("empty Call-ID without error")
		}
		if len(m.Raw) > len(b) || !bytes.Contains(b, m.Raw) {
			t.Fatal("Raw is not part of the input")
		}
		if !bytes.HasSuffix(m.Raw, m.Body) {
			t.Fatal("Body is not the end of Raw")
		}
		if !sipmsg.Looks(m.Raw) {
			t.Fatal("parsed a message that does not Look like SIP")
		}
		n := 0
		for k, v := range m.Fields() {
			if k == "" || k != sipmsg.HeaderName(k) || strings.Contains(v, "\n") {
				t.Fatalf("field %q: %q", k, v)
			}
			if n++; n > len(m.Raw) {
				t.Fatal("more fields than bytes")
			}
		}
		for _, h := range []string{"Refer-To", "b", "X-Call-ID", "Session-ID"} {
			if vs := m.Header(h); len(vs) > sipmsg.MaxHeaderValues {
				t.Fatalf("Header(%s): %d values", h, len(vs))
			}
		}
	})
}

func FuzzFramer(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint16(len(s)/2))
		f.Add(append(append([]byte("\r\n\r\n"), s...), s...), uint16(7))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		at := int(split) % (len(stream) + 1)
		var whole, pieces [][]byte
		(&sipmsg.Framer{}).Write(stream, func(m []byte) { whole = append(whole, slices.Clone(m)) })
		fr := &sipmsg.Framer{}
		for _, p := range [][]byte{stream[:at], stream[at:]} {
			fr.Write(slices.Clone(p), func(m []byte) { pieces = append(pieces, slices.Clone(m)) })
		}
		if len(whole) != len(pieces) {
			t.Fatalf("%d messages in one write, %d when split at %d", len(whole), len(pieces), at)
		}
		total := 0
		for i := range whole {
			if !bytes.Equal(whole[i], pieces[i]) {
				t.Fatalf("message %d differs when split at %d", i, at)
			}
			if !sipmsg.Looks(whole[i]) {
				t.Fatalf("emitted a message that does not Look like SIP: %q", whole[i])
			}
			total += len(whole[i])
		}
		if total > len(stream) {
			t.Fatal("emitted more bytes than written")
		}
	})
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(inviteSDP))
	f.Add([]byte("v=0\r\nc=IN IP6 ::1\r\nm=audio 1/2 RTP/AVP 0 96\r\na=rtpmap:96 L16/16000/2\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"))
	f.Add([]byte("m=image 6000 udptl t38\na=sendonly\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := sipmsg.ParseSDP(b)
		if err != nil {
			return
		}
		for _, m := range s.Media {
			for _, pt := range m.Payloads {
				if pt > 127 {
					t.Fatalf("payload type %d", pt)
				}
			}
			switch m.Direction {
			case "sendrecv", "sendonly", "recvonly", "inactive":
			default:
				t.Fatalf("direction %q", m.Direction)
			}
		}
	})
}
