package call

import (
	"net/url"
	"strings"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
)

// DefaultCorrelationHeaders are the headers whose values tie the legs of
// one conversation together when Config.CorrelationHeaders is nil:
// X-Call-ID and X-Orig-Call-ID (the Call-ID of another leg, as many PBXs
// and SBCs send it), P-Charging-Vector (its icid-value, RFC 7315 §4.6),
// Session-ID (RFC 7989: its local and remote UUIDs), Replaces (RFC 3891:
// the call a new INVITE replaces), Refer-To (RFC 3515: the Replaces
// parameter of an attended transfer, and the transfer target) and
// Referred-By (RFC 3892: the INVITE that carries out a transfer).
var DefaultCorrelationHeaders = []string{
	"X-Call-ID", "X-Orig-Call-ID", "P-Charging-Vector", "Session-ID", "Replaces", "Refer-To", "Referred-By",
}

// Bounds of a call's link keys.
const (
	maxLinkKeys = 32
	maxKeyLen   = 256
)

// Link key prefixes. The index links calls that share a key and overlap
// in time: strictly for media keys (a port pair is reused by the next
// call at once), within a few seconds for the others.
const (
	keyCallID  = "cid:"   // a SIP Call-ID: the call's own, or another leg's named in a header
	keyICID    = "icid:"  // P-Charging-Vector icid-value
	keySession = "sid:"   // RFC 7989 session UUID
	keyXfer    = "xfer:"  // referrer>target of a transfer
	keyMedia   = "media:" // the two media endpoints of the final SDP
)

// addKey records a link key of c, within the bounds.
func (c *state) addKey(kind, v string) {
	v = strings.TrimSpace(v)
	if v == "" || len(c.links) >= maxLinkKeys {
		return
	}
	k := kind + v
	if len(k) > maxKeyLen {
		k = k[:maxKeyLen]
	}
	for _, o := range c.links {
		if o == k {
			return
		}
	}
	c.links = append(c.links, k)
}

// link collects the link keys of message m of call c: its correlation
// headers, and the media endpoint of side's SDP.
func (a *Assembler) link(c *state, m *sipmsg.Message, side spanrec.Side, sdp *sipmsg.SDP) {
	if sdp != nil {
		for _, md := range sdp.Media {
			if md.Addr.Port() != 0 && md.Addr.Addr().IsValid() && !md.Addr.Addr().IsUnspecified() {
				c.mediaEP[side] = md.Addr
				break
			}
		}
	}
	names := a.cfg.CorrelationHeaders
	if names == nil {
		names = DefaultCorrelationHeaders
	}
	for _, name := range names {
		for _, v := range m.Header(name) {
			switch {
			case strings.EqualFold(name, "p-charging-vector"):
				c.addKey(keyICID, paramValue(v, "icid-value"))
			case strings.EqualFold(name, "session-id"):
				// "local-uuid;remote=remote-uuid"; a null UUID is not yet known.
				local, _, _ := strings.Cut(v, ";")
				for _, u := range []string{local, paramValue(v, "remote")} {
					if u = strings.ToLower(strings.TrimSpace(u)); u != "" && strings.Trim(u, "0") != "" {
						c.addKey(keySession, u)
					}
				}
			case strings.EqualFold(name, "replaces"):
				id, _, _ := strings.Cut(v, ";")
				c.addKey(keyCallID, id)
			case strings.EqualFold(name, "refer-to"):
				if !m.Request || m.Method != "REFER" {
					continue
				}
				if _, hdrs, ok := strings.Cut(sipmsg.ParseAddr(v).URI, "?"); ok {
					for _, h := range strings.Split(hdrs, "&") {
						if k, val, ok := strings.Cut(h, "="); ok && strings.EqualFold(k, "Replaces") {
							if val, err := url.PathUnescape(val); err == nil {
								id, _, _ := strings.Cut(val, ";")
								c.addKey(keyCallID, id)
							}
						}
					}
				}
				referrer := m.From
				if rb := m.Header("Referred-By"); len(rb) > 0 {
					referrer = sipmsg.ParseAddr(rb[0])
				}
				if from, to := aor(referrer), aor(sipmsg.ParseAddr(v)); from != "" && to != "" {
					c.addKey(keyXfer, from+">"+to)
				}
			case strings.EqualFold(name, "referred-by"):
				if !m.Request || m.Method != "INVITE" {
					continue
				}
				from := aor(sipmsg.ParseAddr(v))
				for _, to := range []string{aor(sipmsg.ParseAddr(m.RequestURI)), aor(m.To)} {
					if from != "" && to != "" {
						c.addKey(keyXfer, from+">"+to)
					}
				}
			default:
				c.addKey(keyCallID, v)
			}
		}
	}
}

// aor returns the user@host of a sip or sips address, in lower case, or
// "" when it has no host.
func aor(a sipmsg.Addr) string {
	if a.Host == "" {
		return ""
	}
	return strings.ToLower(a.User + "@" + a.Host)
}

// paramValue returns the value of parameter name in a ";name=value" list,
// case-insensitive, unquoted.
func paramValue(v, name string) string {
	for _, p := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// linkKeys returns the call's link keys: those its messages gave, and the
// pair of media endpoints of both sides' final SDP.
func (c *state) linkKeys() []string {
	keys := append([]string(nil), c.links...)
	x, y := c.mediaEP[spanrec.CallerSide], c.mediaEP[spanrec.CalleeSide]
	if x.IsValid() && y.IsValid() && x != y {
		if y.Compare(x) < 0 {
			x, y = y, x
		}
		keys = append(keys, keyMedia+x.String()+"|"+y.String())
	}
	return keys
}
