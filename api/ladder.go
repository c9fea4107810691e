package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// maxLadder bounds the messages of one ladder (a call with thousands of
// re-INVITEs or OPTIONS pings would make a ladder no one can read anyway).
const maxLadder = 2000

// LadderMessage is one SIP message of a call, for the ladder diagram.
type LadderMessage struct {
	Time      time.Time      `json:"time"`
	Src       netip.AddrPort `json:"src"`
	Dst       netip.AddrPort `json:"dst"`
	Transport string         `json:"transport"` // "udp" or "tcp"
	Label     string         `json:"label"`     // "INVITE", "180 Ringing", "200 OK"
	Request   bool           `json:"request"`
	Method    string         `json:"method"`           // the request's method; for a response, its CSeq method
	Status    int            `json:"status,omitempty"` // responses: the status code
	CallID    string         `json:"call_id"`
	CSeq      uint32         `json:"cseq"`
	Raw       string         `json:"raw"` // the message as captured (UTF-8 as far as it goes)
}

func (s *Server) ladder(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	if c.PCAP == "" {
		return spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no capture file", c.ID)
	}
	f, err := s.openBlob(r.Context(), c, c.PCAP, c.PCAPSHA256, "capture file")
	if err != nil {
		return err
	}
	defer f.Close()
	// Read once, in order, through the blob (a ranged GET streams it from
	// a store), checked against the index's SHA-256 if read to its end;
	// at most maxLadder messages are kept, whatever its size.
	expect(f, 0, f.Size())
	var content io.Reader = f
	if c.PCAPSHA256 != "" {
		content = newVerifier(f, f.Size(), c.PCAPSHA256)
	}
	src, err := capture.NewReader(content)
	if err != nil {
		return fmt.Errorf("api: ladder of %s: %w", c.ID, err)
	}
	defer src.Close()
	msgs, err := Ladder(src)
	if errors.Is(err, errMismatch) {
		s.metrics.readFailed("sha256")
	}
	if err != nil {
		return fmt.Errorf("api: ladder of %s: %w", c.ID, err)
	}
	writeJSON(w, http.StatusOK, msgs)
	return nil
}

// tcpDir is one direction of a TCP connection in a per-call capture.
type tcpDir struct {
	framer sipmsg.Framer
	next   uint32 // sequence number after the last byte fed
	seen   bool
}

type flowKey struct{ src, dst netip.AddrPort }

// Ladder reads the SIP messages of a capture in capture order: UDP
// datagrams that look like SIP, and TCP streams split by Content-Length
// (retransmitted TCP bytes are skipped). It returns at most 2000 messages,
// and an error only if the capture cannot be read.
func Ladder(src capture.Source) ([]LadderMessage, error) {
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1}) // show what the file holds
	tcp := map[flowKey]*tcpDir{}
	msgs := []LadderMessage{}
	add := func(p *packet.Packet, transport string, b []byte) {
		m, err := sipmsg.Parse(b)
		if err != nil || len(msgs) >= maxLadder {
			return
		}
		msgs = append(msgs, ladderMessage(m, p, transport))
	}
	for len(msgs) < maxLadder {
		f, err := src.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		p, ok := dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig)
		if !ok || len(p.Payload) == 0 {
			continue
		}
		switch p.Proto {
		case packet.ProtoUDP:
			if sipmsg.Looks(p.Payload) {
				add(&p, "udp", p.Payload)
			}
		case packet.ProtoTCP:
			k := flowKey{p.Src, p.Dst}
			d := tcp[k]
			if d == nil {
				d = &tcpDir{}
				tcp[k] = d
			}
			data := p.Payload
			if d.seen {
				// RFC 9293 §3.4: bytes before next were fed already.
				if off := d.next - p.TCPSeq; int32(off) > 0 {
					if int(off) >= len(data) {
						continue
					}
					data = data[off:]
				}
			}
			end := p.TCPSeq + uint32(len(p.Payload))
			if !d.seen || int32(end-d.next) > 0 {
				d.next, d.seen = end, true
			}
			d.framer.Write(data, func(msg []byte) { add(&p, "tcp", msg) })
		}
	}
	return msgs, nil
}

func ladderMessage(m *sipmsg.Message, p *packet.Packet, transport string) LadderMessage {
	lm := LadderMessage{
		Time: p.Time.UTC(), Src: p.Src, Dst: p.Dst, Transport: transport,
		Request: m.Request, Method: m.Method, CallID: m.CallID, CSeq: m.CSeq, Raw: string(m.Raw),
	}
	if m.Request {
		lm.Label = m.Method
	} else {
		lm.Status = m.StatusCode
		lm.Label = strconv.Itoa(m.StatusCode)
		if m.Reason != "" {
			lm.Label += " " + m.Reason
		}
	}
	return lm
}
