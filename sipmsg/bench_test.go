package sipmsg_test

import (
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

func BenchmarkParseInvite(b *testing.B) {
	msg := []byte(invite(inviteSDP))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	n := 0
	for b.Loop() {
		if _, err := sipmsg.Parse(msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkLooksRTP(b *testing.B) {
	rtp := []byte("\x80\x08\x12\x34\x00\x00\x00\xa0\xde\xad\xbe\xef" + strings.Repeat("\xd5", 160))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if sipmsg.Looks(rtp) {
			b.Fatal("RTP looks like SIP")
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkFramer(b *testing.B) {
	stream := []byte(strings.Repeat(invite(inviteSDP), 10))
	f := &sipmsg.Framer{}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	n := 0
	emit := func([]byte) { n++ }
	for b.Loop() {
		for i := 0; i < len(stream); i += 1460 { // MSS-sized segments
			f.Write(stream[i:min(i+1460, len(stream))], emit)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
