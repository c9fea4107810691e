package sipmsg

import (
	"net/netip"
	"strconv"
	"strings"
)

// SDP is the part of a session description (RFC 8866) a recorder needs to expect and decode RTP.
type SDP struct {
	Origin string // the o= value as sent
	Media  []Media
	// MediaDropped counts the m= sections past MaxMedia, ignored.
	MediaDropped int
}

// MaxMedia bounds the m= sections an SDP keeps: a real offer has a few
// (audio, video, T.38, each at most once or twice); a thousand, from a
// fuzzer or a hostile sender, would each cost the call a media binding.
const MaxMedia = 16

// Media is one m= section of an SDP.
type Media struct {
	Type string // "audio", "video", "image" (T.38), ...
	// Addr is the connection address (media-level c=, else session-level c=) with the m= port. Port 0 means the
	// stream is disabled (RFC 3264 §5.1); address 0.0.0.0 is the old way to put it on hold (RFC 3264 §8.4). The
	// address is invalid when no c= line gives one (or it is an FQDN).
	Addr     netip.AddrPort
	Proto    string           // RTP/AVP, RTP/SAVP, udptl, ...
	Payloads []uint8          // the numeric m= formats, in order
	RTPMap   map[uint8]RTPMap // a=rtpmap by payload type; nil if there is none
	Ptime    int              // a=ptime in ms, 0 if absent
	// Direction is sendrecv, sendonly, recvonly or inactive (RFC 3264 §5.1): media-level, else session-level,
	// else sendrecv.
	Direction string
	RTCPAddr  netip.AddrPort // a=rtcp (RFC 3605), with the media address when it gives none; invalid if absent
	Crypto    bool           // an a=crypto line (SDES SRTP keys, RFC 4568) is present
	// CryptoLines are the values of the a=crypto attributes (RFC 4568
	// §9.1: "tag suite key-params [session-params]"), at most
	// MaxCryptoLines, in order.
	CryptoLines []string
	// Fingerprint is set when the media (or the session) carries an
	// a=fingerprint (RFC 8122): DTLS-SRTP keys its SRTP (RFC 5764).
	Fingerprint bool
	// ZRTPHash is set when the media (or the session) carries an
	// a=zrtp-hash (RFC 6189 §8.1): ZRTP may key its SRTP.
	ZRTPHash bool
}

// MaxCryptoLines bounds the a=crypto attributes kept per media.
const MaxCryptoLines = 8

// RTPMap is one a=rtpmap attribute (RFC 8866 §6.6).
type RTPMap struct {
	Name      string // encoding name as sent, e.g. "PCMU", "telephone-event", "L16"
	ClockRate int    // Hz
	Channels  int    // audio channels; 1 when not given
}

// ParseSDP parses a session description. It never panics and copies what it keeps.
//
// ParseSDP is tolerant, unlike a strict RFC 8866 parser: lines may come in any order and end in LF or CRLF,
// unknown or malformed lines are skipped, and media of any type ("image" for T.38) are kept. It returns
// ErrNotSDP when b has no v=, o= or m= line.
func ParseSDP(b []byte) (*SDP, error) {
	return parseSDP(string(b))
}

// sdpMedia is a Media under construction: its own c= address, if any, and its a=rtcp.
type sdpMedia struct {
	conn, rtcpConn netip.Addr
	port, rtcpPort uint16
	haveRTCP       bool
}

func parseSDP(s string) (*SDP, error) {
	var (
		sdp      = &SDP{}
		build    []sdpMedia
		sessConn netip.Addr
		sessDir  string
		seen     bool
		sessFP   bool // session-level a=fingerprint
		sessZRTP bool // session-level a=zrtp-hash
	)
	for i := 0; i < len(s); {
		line, next := nextLine(s, i)
		i = next
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		if sdp.MediaDropped > 0 {
			// Within the sections dropped (the last ones): skipped.
			if line[0] == 'm' {
				sdp.MediaDropped++
			}
			continue
		}
		val := strings.TrimSpace(line[2:])
		var cur *Media
		var cb *sdpMedia
		if n := len(sdp.Media); n > 0 {
			cur, cb = &sdp.Media[n-1], &build[n-1]
		}
		switch line[0] {
		case 'v':
			seen = true
		case 'o':
			seen = true
			if cur == nil {
				sdp.Origin = val
			}
		case 'c':
			addr := parseConnection(val)
			if cur == nil {
				sessConn = addr
			} else {
				cb.conn = addr
			}
		case 'm':
			seen = true
			if len(sdp.Media) >= MaxMedia {
				sdp.MediaDropped++
				continue
			}
			m, port := parseMediaLine(val)
			sdp.Media = append(sdp.Media, m)
			build = append(build, sdpMedia{port: port})
		case 'a':
			name, value, _ := strings.Cut(val, ":")
			switch name {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if cur == nil {
					sessDir = name
				} else {
					cur.Direction = name
				}
			}
			if cur == nil {
				switch name {
				case "fingerprint":
					sessFP = true
				case "zrtp-hash":
					sessZRTP = true
				}
				continue
			}
			switch name {
			case "rtpmap":
				pt, rm, ok := parseRTPMap(value)
				if ok {
					if cur.RTPMap == nil {
						cur.RTPMap = make(map[uint8]RTPMap, len(cur.Payloads))
					}
					cur.RTPMap[pt] = rm
				}
			case "ptime":
				cur.Ptime = atoi(firstWord(value))
			case "rtcp":
				// RFC 3605 §2.1: a=rtcp:port [nettype addrtype connection-address]
				port, rest := cutSpace(value)
				if p, err := strconv.ParseUint(port, 10, 16); err == nil {
					cb.rtcpPort, cb.haveRTCP = uint16(p), true
					cb.rtcpConn = parseConnection(rest)
				}
			case "crypto":
				cur.Crypto = true
				if len(cur.CryptoLines) < MaxCryptoLines {
					cur.CryptoLines = append(cur.CryptoLines, value)
				}
			case "fingerprint":
				cur.Fingerprint = true
			case "zrtp-hash":
				cur.ZRTPHash = true
			}
		}
	}
	if !seen {
		return nil, ErrNotSDP
	}
	for i := range sdp.Media {
		m, b := &sdp.Media[i], &build[i]
		conn := b.conn
		if !conn.IsValid() {
			conn = sessConn
		}
		m.Addr = netip.AddrPortFrom(conn, b.port)
		m.Fingerprint = m.Fingerprint || sessFP
		m.ZRTPHash = m.ZRTPHash || sessZRTP
		if m.Direction == "" {
			m.Direction = sessDir
		}
		if m.Direction == "" {
			m.Direction = "sendrecv"
		}
		if b.haveRTCP {
			rc := b.rtcpConn
			if !rc.IsValid() {
				rc = conn
			}
			m.RTCPAddr = netip.AddrPortFrom(rc, b.rtcpPort)
		}
	}
	return sdp, nil
}

// parseConnection returns the address of a c= value "IN IP4 192.0.2.1[/ttl[/n]]" or "IN IP6 2001:db8::1" (RFC 8866
// §5.7); the zero Addr when it is not a literal address.
func parseConnection(v string) netip.Addr {
	_, rest := cutSpace(v) // nettype
	_, rest = cutSpace(rest)
	addr := firstWord(rest)
	if slash := strings.IndexByte(addr, '/'); slash >= 0 {
		addr = addr[:slash]
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// parseMediaLine parses an m= value "audio 49170[/2] RTP/AVP 0 8 101" (RFC 8866 §5.14).
func parseMediaLine(v string) (Media, uint16) {
	var m Media
	typ, rest := cutSpace(v)
	m.Type = typ
	portStr, rest := cutSpace(rest)
	if slash := strings.IndexByte(portStr, '/'); slash >= 0 {
		portStr = portStr[:slash]
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		port = 0
	}
	m.Proto, rest = cutSpace(rest)
	for rest != "" {
		var f string
		f, rest = cutSpace(rest)
		if pt, err := strconv.ParseUint(f, 10, 7); err == nil {
			m.Payloads = append(m.Payloads, uint8(pt))
		}
	}
	return m, uint16(port)
}

// parseRTPMap parses an a=rtpmap value "96 L16/16000/2" (RFC 8866 §6.6).
func parseRTPMap(v string) (uint8, RTPMap, bool) {
	ptStr, enc := cutSpace(v)
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return 0, RTPMap{}, false
	}
	enc = firstWord(enc)
	name, rest, _ := strings.Cut(enc, "/")
	rateStr, chStr, _ := strings.Cut(rest, "/")
	rm := RTPMap{Name: name, ClockRate: atoi(rateStr), Channels: 1}
	if ch := atoi(chStr); ch > 0 {
		rm.Channels = ch
	}
	return uint8(pt), rm, name != ""
}
