package call

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/srtp"
)

// operatorKeys are the operator's SDES keys, indexed.
type operatorKeys struct {
	byCall map[callSide][]srtp.Key
	byAddr map[netip.AddrPort][]srtp.Key
	gen    int         // bumped when the keys are reloaded
	from   []keys.SDES // the slice they were loaded from
}

// refreshKeys reindexes the operator's keys when Config.SDES returns
// another slice than last time.
func (a *Assembler) refreshKeys() {
	if a.cfg.SDES == nil {
		return
	}
	ks := a.cfg.SDES()
	if len(ks) == len(a.keys.from) && (len(ks) == 0 || &ks[0] == &a.keys.from[0]) {
		return
	}
	a.keys.load(ks, a.cfg.Logger, a.keys.gen+1)
}

type callSide struct {
	callID string
	side   spanrec.Side
}

// load indexes ks. Keys of a suite spanrec cannot decrypt are skipped
// with a warning that names the suite and the target, never the key.
func (o *operatorKeys) load(ks []keys.SDES, log *slog.Logger, gen int) {
	o.byCall, o.byAddr, o.gen, o.from = nil, nil, gen, ks
	for _, k := range ks {
		key, err := srtp.NewKey(k.Suite, k.Key, k.MKI)
		if err != nil {
			log.Warn("SRTP key not usable", "suite", k.Suite, "call_id", k.CallID, "side", k.Side, "src", k.Addr, "err", err)
			continue
		}
		if k.Addr.IsValid() {
			if o.byAddr == nil {
				o.byAddr = make(map[netip.AddrPort][]srtp.Key)
			}
			o.byAddr[k.Addr] = append(o.byAddr[k.Addr], key)
			continue
		}
		if o.byCall == nil {
			o.byCall = make(map[callSide][]srtp.Key)
		}
		cs := callSide{k.CallID, spanrec.Side(k.Side)}
		o.byCall[cs] = append(o.byCall[cs], key)
	}
}

// of returns the operator's keys for what side of call callID sends from
// src.
func (o *operatorKeys) of(callID string, side spanrec.Side, src netip.AddrPort) []srtp.Key {
	a, b := o.byCall[callSide{callID, side}], o.byAddr[src]
	if len(b) == 0 {
		return a
	}
	return append(slices.Clip(a), b...)
}

// sideSecurity is what one side's latest SDP says of the encryption of
// the audio it sends.
type sideSecurity struct {
	enc spanrec.Encryption
	// crypto holds the a=crypto values of its audio (RFC 4568): the keys
	// that encrypt what this side sends.
	crypto []string
	// keys are the usable keys of crypto; unsupported names the suites
	// it offered that spanrec cannot decrypt.
	keys        []srtp.Key
	unsupported []string
}

func sideIndex(s spanrec.Side) int {
	if s == spanrec.CalleeSide {
		return 1
	}
	return 0
}

// secureSDP records what side's SDP says of its audio's encryption: the
// first audio stream that is not disabled (port 0) decides.
func (c *state) secureSDP(side spanrec.Side, sdp *sipmsg.SDP) {
	for i := range sdp.Media {
		m := &sdp.Media[i]
		if m.Type != "audio" || m.Addr.Port() == 0 {
			continue
		}
		sec := &c.secure[sideIndex(side)]
		if !slices.Equal(sec.crypto, m.CryptoLines) {
			// New keys (a re-INVITE may re-key, RFC 4568 §7.1.4): the
			// flows add them to their Streams, which keep the old ones
			// for the packets still in flight.
			c.keyGen++
		}
		*sec = sideSecurity{enc: srtp.Detect(m), crypto: slices.Clone(m.CryptoLines)}
		for _, line := range m.CryptoLines {
			_, suite, ks, err := srtp.ParseCrypto(line)
			if err != nil {
				if suite != "" && !slices.Contains(sec.unsupported, suite) {
					sec.unsupported = append(sec.unsupported, suite)
				}
				continue
			}
			sec.keys = append(sec.keys, ks...)
		}
		return
	}
}

// encryption returns the encryption of the media that f's sender sends:
// SRTP when the operator gave keys for it, else what its SDP says, else
// what the other side's says (the two agree on a profile, RFC 3264). An
// a=zrtp-hash only announces that ZRTP may be used: the media counts as
// ZRTP once ZRTP packets are seen, and ZRTP packets mean ZRTP whatever
// the SDP said.
func (c *state) encryption(a *Assembler, f *flow) spanrec.Encryption {
	sender := f.side
	if len(a.keys.of(c.d.CallID, sender, f.key.src)) > 0 {
		return spanrec.SRTP
	}
	e := c.secure[sideIndex(sender)].enc
	if e == spanrec.Plain {
		e = c.secure[sideIndex(other(sender))].enc
	}
	switch {
	case e == spanrec.ZRTP && !c.zrtp:
		return spanrec.Plain
	case e == spanrec.Plain && c.zrtp:
		return spanrec.ZRTP
	}
	return e
}

// encryption returns c.encryption(a, f), cached until the SDP, the
// operator's keys or the ZRTP state change: plain RTP pays one
// comparison per packet.
func (f *flow) encryption(a *Assembler, c *state) spanrec.Encryption {
	k := encCache{sdpGen: c.sdpGen, opGen: a.keys.gen, zrtp: c.zrtp, valid: true}
	if f.encKey != k {
		f.encKey, f.enc = k, c.encryption(a, f)
	}
	return f.enc
}

// encCache is what flow.encryption's cached answer depends on.
type encCache struct {
	sdpGen, opGen int
	zrtp, valid   bool
}

// refreshKeys gives f's Stream the keys its sender announced and the
// operator's, when they changed since it last looked.
func (f *flow) refreshKeys(a *Assembler, c *state) {
	if f.sec != nil && f.keyGen == c.keyGen && f.opGen == a.keys.gen {
		return
	}
	if f.sec == nil {
		f.sec = new(srtp.Stream)
	}
	f.keyGen, f.opGen = c.keyGen, a.keys.gen
	for _, k := range a.keys.of(c.d.CallID, f.side, f.key.src) {
		_ = f.sec.AddKey(k) // NewKey checked the suite and length
	}
	for _, k := range c.secure[sideIndex(f.side)].keys {
		_ = f.sec.AddKey(k)
	}
}

// encryptionNote explains why the encrypted stream st has no audio.
func encryptionNote(st *spanrec.Stream, haveKeys bool, unsupported []string) string {
	from := fmt.Sprintf("%s's stream (%s → %s)", st.Side, st.Src, st.Dst)
	switch st.Encryption {
	case spanrec.DTLSSRTP:
		return "media encrypted with DTLS-SRTP (WebRTC): keys are agreed in the DTLS handshake and are not visible on the wire, so its audio cannot be decrypted; the packets are kept in the call's pcap"
	case spanrec.ZRTP:
		return "media encrypted with ZRTP: keys are agreed in a Diffie-Hellman exchange and are not visible on the wire, so its audio cannot be decrypted; the packets are kept in the call's pcap"
	case spanrec.SRTP:
		if !haveKeys && len(unsupported) > 0 {
			return fmt.Sprintf("%s is encrypted with SRTP suite %v, which spanrec does not decrypt; the packets are kept in the call's pcap", from, unsupported)
		}
		if !haveKeys {
			return fmt.Sprintf("%s is encrypted with SRTP and its keys were not in the signalling: supply them with --keys (key file) to decrypt it", from)
		}
		return fmt.Sprintf("%s is encrypted with SRTP and no key it announced authenticated its packets (%d failures): its audio is not recorded", from, st.AuthFailures)
	}
	return fmt.Sprintf("%s decodes to white noise (encrypted media, or not %s): its audio is not recorded", from, st.Codec)
}
