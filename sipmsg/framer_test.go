package sipmsg_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// collect feeds the pieces to a new Framer and returns copies of the messages it emits.
func collect(f *sipmsg.Framer, pieces ...[]byte) []string {
	var out []string
	for _, p := range pieces {
		f.Write(p, func(msg []byte) { out = append(out, string(msg)) })
	}
	return out
}

func TestFramerEverySplit(t *testing.T) {
	first := invite(inviteSDP)
	second := crlf("SIP/2.0 200 OK\nCall-ID: a84b4c76e66710@pc33.example.com\nCSeq: 314159 INVITE\nl: 14\n\nv=0\no=- 1 1\n")
	stream := []byte(first + second)
	for i := 0; i <= len(stream); i++ {
		f := &sipmsg.Framer{}
		got := collect(f, slices.Clone(stream[:i]), slices.Clone(stream[i:]))
		if len(got) != 2 || got[0] != first || got[1] != second {
			t.Fatalf("split at %d: got %d messages %q", i, len(got), got)
		}
		if s := f.Stats(); s.Messages != 2 || s.Resyncs != 0 || s.Overflows != 0 {
			t.Fatalf("split at %d: stats %+v", i, s)
		}
	}
	// Byte by byte, reusing the input buffer as a capture loop does.
	f := &sipmsg.Framer{}
	var got []string
	one := make([]byte, 1)
	for _, c := range stream {
		one[0] = c
		f.Write(one, func(msg []byte) { got = append(got, string(msg)) })
	}
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("byte by byte: got %q", got)
	}
}

func TestFramer(t *testing.T) {
	bye := crlf("BYE sip:b@h SIP/2.0\nCall-ID: bye@h\nCSeq: 2 BYE\nContent-Length: 0\n\n")
	ok := "SIP/2.0 200 OK\nCall-ID: bye@h\nCSeq: 2 BYE\n\n" // LF only, no Content-Length
	tests := []struct {
		name   string
		pieces []string
		want   []string
		stats  sipmsg.FramerStats
	}{
		// A CRLF run split over two writes counts twice.
		{"keep-alives", []string{"\r\n\r\n", bye + "\r\n", "\r\n" + bye, "\r\n"}, []string{bye, bye},
			sipmsg.FramerStats{Messages: 2, KeepAlives: 4}},
		{"LF only without Content-Length", []string{ok + ok}, []string{ok, ok}, sipmsg.FramerStats{Messages: 2}},
		{"starts mid-message", []string{"=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", "\r\n" + bye}, []string{bye},
			sipmsg.FramerStats{Messages: 1, Resyncs: 1, Skipped: 35, KeepAlives: 1}},
		// The empty line that ends the garbage counts as CRLFs before a
		// start line, as it would had a write ended before it.
		{"garbage between messages", []string{bye + "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n" + bye}, []string{bye, bye},
			sipmsg.FramerStats{Messages: 2, KeepAlives: 1, Resyncs: 1, Skipped: 28}},
		{"garbage, CR, start line, split after the CR", []string{"0000000\n\r", "0 A:00000 SIP/2.0\n\n"}, []string{"0 A:00000 SIP/2.0\n\n"},
			sipmsg.FramerStats{Messages: 1, KeepAlives: 1, Resyncs: 1, Skipped: 8}},
		{"garbage, CR, start line, one write", []string{"0000000\n\r0 A:00000 SIP/2.0\n\n"}, []string{"0 A:00000 SIP/2.0\n\n"},
			sipmsg.FramerStats{Messages: 1, KeepAlives: 1, Resyncs: 1, Skipped: 8}},
		{"garbage line split", []string{"xyz", "zy\r\n" + bye}, []string{bye},
			sipmsg.FramerStats{Messages: 1, Resyncs: 1, Skipped: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &sipmsg.Framer{}
			var pieces [][]byte
			for _, p := range tt.pieces {
				pieces = append(pieces, []byte(p))
			}
			got := collect(f, pieces...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if s := f.Stats(); s != tt.stats {
				t.Errorf("stats %+v, want %+v", s, tt.stats)
			}
		})
	}
}

func TestFramerOverflow(t *testing.T) {
	bye := crlf("BYE sip:b@h SIP/2.0\nCall-ID: bye@h\nCSeq: 2 BYE\nContent-Length: 0\n\n")
	big := crlf("MESSAGE sip:b@h SIP/2.0\nCall-ID: big@h\nContent-Length: 5000\n\n") + strings.Repeat("x", 5000) + "\r\n"
	f := &sipmsg.Framer{MaxMessage: 1024}
	got := collect(f, []byte(bye), []byte(big), []byte(bye))
	if !slices.Equal(got, []string{bye, bye}) {
		t.Errorf("got %q", got)
	}
	if s := f.Stats(); s.Overflows != 1 || s.Messages != 2 {
		t.Errorf("stats %+v", s)
	}
	// An endless header section is dropped too, and the buffer stays bounded.
	f = &sipmsg.Framer{MaxMessage: 1024}
	hdr := []byte("X-Junk: " + strings.Repeat("y", 100) + "\r\n")
	f.Write([]byte("INVITE sip:b@h SIP/2.0\r\n"), func([]byte) {})
	for range 100 {
		f.Write(hdr, func([]byte) { t.Error("emitted a message") })
	}
	got = collect(f, []byte("\r\n"+bye))
	if !slices.Equal(got, []string{bye}) {
		t.Errorf("after endless headers: got %q", got)
	}
	if s := f.Stats(); s.Overflows == 0 {
		t.Errorf("stats %+v, want an overflow", s)
	}
	// A long line without LF.
	f = &sipmsg.Framer{MaxMessage: 1024}
	got = collect(f, bytes.Repeat([]byte{0x80}, 2000), []byte("\r\n"+bye))
	if !slices.Equal(got, []string{bye}) {
		t.Errorf("after binary: got %q", got)
	}
}
