package recorder

import (
	"bytes"
	"testing"

	"github.com/spanrec/spanrec/packet"
)

func TestBatchAdd(t *testing.T) {
	frame := []byte("eth-ip-udp-header:the-payload-bytes;trailer")
	inner := frame[18:35] // "the-payload-bytes"
	separate := []byte("reassembled payload, not in the frame")
	tests := []struct {
		name    string
		frame   []byte
		payload []byte
		arena   int // bytes the packet adds to the arena
	}{
		{"payload in frame", frame, inner, len(frame)},
		{"payload at frame end", frame, frame[36:], len(frame)},
		{"payload elsewhere", frame, separate, len(frame) + len(separate)},
		{"payload of a copy", frame, bytes.Clone(inner), len(frame) + len(inner)},
		{"payload past a short frame", frame[:20], frame[18:35], 20 + 17},
		{"empty payload", frame, nil, len(frame)},
	}
	b := &batch{}
	var want int
	for _, tt := range tests {
		b.add(&packet.Packet{Frame: tt.frame, Payload: tt.payload})
		want += tt.arena
		if len(b.arena) != want {
			t.Errorf("%s: arena grew to %d bytes, want %d", tt.name, len(b.arena), want)
			want = len(b.arena)
		}
	}
	b.seal()
	for i, tt := range tests {
		p := b.pkts[i]
		if !bytes.Equal(p.Frame, tt.frame) || !bytes.Equal(p.Payload, tt.payload) {
			t.Errorf("%s: sealed frame %q payload %q, want %q and %q", tt.name, p.Frame, p.Payload, tt.frame, tt.payload)
		}
		if cap(p.Payload) != len(p.Payload) || cap(p.Frame) != len(p.Frame) {
			t.Errorf("%s: sealed slices may grow into the arena", tt.name)
		}
	}
}
