package pcaptest

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Write writes the capture described by o to w as a classic pcap file
// (microsecond timestamps, Ethernet link type), frames in time order. The
// output depends only on o, except the TLS bytes of calls with Transport
// "tls" (crypto/tls draws fresh keys). Invalid options are reported before
// anything is written.
func Write(w io.Writer, o Options) error {
	ps, err := plan(o)
	if err != nil {
		return err
	}
	start := o.Start
	if start.IsZero() {
		start = defaultStart()
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("pcaptest: write header: %w", err)
	}
	fw := &frameWriter{pw: pw, f: newFramer(), start: start}
	if err := run(ps, fw.packet); err != nil {
		return err
	}
	if err := fw.flushDups(-1); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("pcaptest: %w", err)
	}
	return nil
}

// dupDelay is how much later the second mirror port delivers its copy.
const dupDelay = 100 * time.Microsecond

// frameWriter frames packets and writes them, with the mirror copies of
// calls that have Duplicate set.
type frameWriter struct {
	pw    *pcapgo.Writer
	f     *framer
	start time.Time
	at    time.Duration // time of the frame being written
	dups  dupQueue
}

func (fw *frameWriter) packet(p *packet) error {
	if err := fw.flushDups(p.at); err != nil {
		return err
	}
	if p.call.c.Duplicate {
		fw.dups.push(p, p.at+dupDelay)
	}
	return fw.write(p, false)
}

// flushDups writes the pending copies due at or before t; t < 0 writes all.
func (fw *frameWriter) flushDups(t time.Duration) error {
	for fw.dups.n > 0 {
		q := fw.dups.front()
		if t >= 0 && q.at > t {
			break
		}
		if err := fw.write(q, true); err != nil {
			return err
		}
		fw.dups.pop()
	}
	return nil
}

func (fw *frameWriter) write(p *packet, dup bool) error {
	fw.at = p.at
	return fw.f.frames(p, dup, fw.emit)
}

func (fw *frameWriter) emit(b []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: fw.start.Add(fw.at), CaptureLength: len(b), Length: len(b)}
	if err := fw.pw.WritePacket(ci, b); err != nil {
		return fmt.Errorf("pcaptest: write packet: %w", err)
	}
	return nil
}

// dupQueue is a FIFO ring of packets with their own copies of the payload.
// Each slot owns its buffer, so pushing never overwrites a pending payload.
type dupQueue struct {
	e       []dupEntry
	head, n int
}

type dupEntry struct {
	p   packet
	buf []byte
}

func (q *dupQueue) push(p *packet, at time.Duration) {
	if q.n == len(q.e) {
		e := make([]dupEntry, max(16, 2*len(q.e)))
		for i := range q.n {
			e[i] = q.e[(q.head+i)%len(q.e)]
		}
		q.e, q.head = e, 0
	}
	s := &q.e[(q.head+q.n)%len(q.e)]
	s.buf = append(s.buf[:0], p.payload...)
	s.p = *p
	s.p.at, s.p.payload = at, s.buf
	q.n++
}

func (q *dupQueue) front() *packet { return &q.e[q.head].p }

func (q *dupQueue) pop() {
	q.head = (q.head + 1) % len(q.e)
	q.n--
}
