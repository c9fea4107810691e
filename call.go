package spanrec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// CallID identifies a recorded call in the index. It is derived from the
// SIP Call-ID and the time the call started, so importing the same capture
// twice yields the same IDs (and so replaces, not duplicates, the calls).
type CallID string

// NewCallID returns the CallID of the call with SIP Call-ID sipCallID that
// started at start.
func NewCallID(sipCallID string, start time.Time) CallID {
	h := sha256.New()
	io.WriteString(h, sipCallID)
	io.WriteString(h, "\x00")
	io.WriteString(h, strconv.FormatInt(start.UnixNano(), 10))
	return CallID(hex.EncodeToString(h.Sum(nil))[:20])
}

// Direction says which way a call goes relative to the local networks.
type Direction string

// Call directions.
const (
	Inbound  Direction = "inbound"  // outside → local phone
	Outbound Direction = "outbound" // local phone → outside
	Internal Direction = "internal" // local phone ↔ local phone
	Unknown  Direction = "unknown"  // neither end is known to be local
)

// Status is how a call ended.
type Status string

// Call statuses.
const (
	Answered  Status = "answered"
	NoAnswer  Status = "no-answer" // 408 or 480, or never answered before the end of input
	Busy      Status = "busy"      // 486, 600
	Cancelled Status = "cancelled" // CANCEL before a final answer
	Failed    Status = "failed"    // another 3xx–6xx final answer; see Call.StatusCode
	Ongoing   Status = "ongoing"   // still in progress (live view only)
)

// Hangup says who ended a call.
type Hangup string

// Who ended a call, from the signalling (see package dialog): the party
// that sent the BYE or the CANCEL, the callee that declined (486, 600,
// 603), or the network (any other final failure: 404, 408, 480, 5xx…).
const (
	HangupUnknown Hangup = ""       // no BYE, CANCEL or final answer seen (end of capture, timeout)
	HangupCaller  Hangup = "caller" // BYE from the caller, CANCEL, or 487
	HangupCallee  Hangup = "callee" // BYE from the callee, or 486/600/603
	HangupSystem  Hangup = "system" // another final failure answer
)

// Side is one of the two parties of a call.
type Side string

// The two sides of a call. The caller's audio is the left channel of a
// recording and the callee's the right one.
const (
	CallerSide Side = "caller"
	CalleeSide Side = "callee"
)

// Party is one end of a call.
type Party struct {
	Number string     `json:"number"`         // user part of the URI (P-Asserted-Identity preferred)
	Name   string     `json:"name,omitempty"` // display name
	Addr   netip.Addr `json:"addr"`           // signaling address the party's messages came from
}

// Stream is one RTP stream of a call with its quality figures.
type Stream struct {
	SSRC        uint32         `json:"ssrc"`
	Src         netip.AddrPort `json:"src"`
	Dst         netip.AddrPort `json:"dst"`
	Side        Side           `json:"side"` // the party who sent it
	PayloadType uint8          `json:"payload_type"`
	Codec       string         `json:"codec"`      // encoding name, e.g. "PCMU"; "" if unknown
	ClockRate   int            `json:"clock_rate"` // RTP clock rate, Hz
	Decoded     bool           `json:"decoded"`    // its audio is in the recording
	First       time.Time      `json:"first"`
	Last        time.Time      `json:"last"`
	Packets     int            `json:"packets"`
	Lost        int            `json:"lost"` // expected − received (RFC 3550 A.3), never negative
	// ConcealedMS is how much of the stream's audio its decoder made up
	// for lost packets (frame erasure concealment, comfort noise after a
	// SID frame), in milliseconds; the rest of a loss stays silent.
	ConcealedMS int     `json:"concealed_ms,omitempty"`
	Duplicates  int     `json:"duplicates"`
	OutOfOrder  int     `json:"out_of_order"`
	JitterMS    float64 `json:"jitter_ms"` // RFC 3550 interarrival jitter at the end
	// MeanJitterMS is the mean of the interarrival jitter over the
	// stream's packets (what its MOS is computed from); 0 for calls
	// indexed before it was kept.
	MeanJitterMS float64 `json:"mean_jitter_ms"`
	MaxJitterMS  float64 `json:"max_jitter_ms"`
	MaxDeltaMS   float64 `json:"max_delta_ms"` // largest gap between packets
	MOS          float64 `json:"mos"`          // ITU-T G.107 E-model, simplified (see rtpstream)
	// Encryption says how the stream's media was protected; "" for plain
	// RTP. An encrypted stream is Decoded only when it was decrypted.
	Encryption Encryption `json:"encryption"`
	// AuthFailures counts the SRTP packets of the stream that no known
	// key authenticated (RFC 3711 §3.4): wrong or missing keys, or
	// damaged packets. They are never decoded.
	AuthFailures int `json:"auth_failures,omitempty"`
	// Quality is the stream's figures over time and its RTCP reports; the
	// recorder fills it in, the index keeps it apart (not in the JSON
	// form). Nil when not measured or not loaded.
	Quality *StreamQuality `json:"-"`
}

// Encryption is how a stream's media is protected.
type Encryption string

// Media encryptions. Only SRTP keyed by SDES (RFC 4568), from the SDP or
// from a key file, can be decrypted: DTLS-SRTP and ZRTP agree their keys
// in a Diffie-Hellman exchange, so the keys never appear on the wire.
const (
	Plain     Encryption = ""          // plain RTP
	SRTP      Encryption = "srtp"      // SRTP keyed by SDES (a=crypto) or by an operator key
	ZRTP      Encryption = "zrtp"      // SRTP keyed by ZRTP (RFC 6189)
	DTLSSRTP  Encryption = "dtls-srtp" // SRTP keyed by DTLS (RFC 5764): WebRTC
	Encrypted Encryption = "unknown"   // encrypted by means not told (the payload is noise)
)

// DTMF is one key press seen in a call.
type DTMF struct {
	Digit      string    `json:"digit"` // 0-9, *, #, A-D, or "flash"
	At         time.Time `json:"at"`
	DurationMS int       `json:"duration_ms,omitempty"`
	Side       Side      `json:"side"`
	Source     string    `json:"source"` // "rfc4733" or "sip-info"
}

// Hold is a span of a call during which the SDP said one side sends no
// media (hold with a=sendonly/a=inactive or c=0.0.0.0, a rejected stream,
// or a session negotiated one-way on purpose): that side's silence there is
// what the parties asked for, not loss.
type Hold struct {
	Side  Side      `json:"side"` // the side that sends nothing
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// How a call was found: by its SIP signalling, or as RTP alone.
const (
	SignallingSIP  = "sip"
	SignallingNone = "none" // RTP paired by addresses, no readable signalling
)

// Call is one recorded call as the index stores it. Its JSON form (see
// MarshalJSON) is the one the CLI and the HTTP API print.
type Call struct {
	ID         CallID
	SIPCallID  string
	Caller     Party
	Callee     Party
	Direction  Direction
	Status     Status
	StatusCode int // final SIP answer code, 0 if none
	// StatusReason is the reason phrase of that answer ("OK", "Busy
	// Here"), "" if none.
	StatusReason string
	// HangupBy says who ended the call.
	HangupBy Hangup
	// PDD is the post-dial delay: from the INVITE that got an answer to
	// its first 18x, or to its 2xx when no 18x came first (RFC 6076
	// §4.1); 0 if not measured.
	PDD time.Duration
	// RingTime is from the first 18x to the 2xx, the CANCEL or the end of
	// an unanswered call; 0 without an 18x.
	RingTime time.Duration
	Start    time.Time // first INVITE
	Answer   time.Time // 2xx to the INVITE; zero if unanswered
	End      time.Time // BYE (or its 200), final failure, or last packet
	// Duration is the talk time, from Answer to End; 0 if unanswered.
	Duration time.Duration
	Codecs   []string
	// AudioStart is the capture time of the first sample of the recording.
	AudioStart  time.Time
	AudioMS     int64
	Audio       string // path relative to the data directory; "" if no audio
	AudioSHA256 string
	PCAP        string // path relative to the data directory
	PCAPSHA256  string
	DTMF        []DTMF
	Streams     []Stream
	// CaptureLoss is true when a stream of the call lost packets.
	CaptureLoss bool
	// Notes are plain-language remarks: undecodable codecs, one-way audio.
	Notes []string
	// Holds are the spans when the SDP said a side sends no media, in
	// start order.
	Holds []Hold
	// Signalling is SignallingSIP, or SignallingNone for a call found as
	// RTP alone (its parties are the media addresses). "" reads as SIP.
	Signalling string
	// Interaction identifies the conversation the call is a leg of: the
	// ID of its earliest leg (its own ID when it has no other). The index
	// sets it, and Legs, from LinkKeys.
	Interaction CallID
	// Legs are the IDs of the other legs of the conversation (B2BUA, SBC
	// or PBX legs, transfers), earliest first.
	Legs []CallID
	// Sensor names the recorder that recorded the call (spanrec record
	// or import --sensor, by default its host name), so that calls from
	// many recorders in one index can be told apart; "" if not known.
	Sensor string
	// CallerTag and CalleeTag are the SIP dialog's tags (RFC 3261
	// §19.3): the From tag of the first INVITE, and the callee's tag
	// (the To tag of the final answer or of the caller's in-dialog
	// requests); "" when not seen. With SIPCallID they tell the same
	// call recorded by two sensors (see SameCall). Not in the JSON form.
	CallerTag, CalleeTag string
	// Copies lists the recordings of this same call by several sensors
	// (see SameCall), this one among them, the one to play first: nil
	// when only one sensor recorded it. The index sets it.
	Copies []CallCopy
	// AudioFrom names, when there are Copies, the copy whose recording
	// holds each direction's audio best: both sides name the same copy
	// when one has both directions. The index sets it.
	AudioFrom map[Side]CallID
	// Tags are the labels people put on the call (see CallNote), sorted;
	// the index loads them.
	Tags []string
	// CallerUA and CalleeUA are the software each side named: the
	// User-Agent of its first request, or (callee) the Server or
	// User-Agent of its first answer; at most MaxHeaderValue bytes.
	CallerUA, CalleeUA string
	// SIPHeaders are the header fields of the call's first INVITE (names
	// as sipmsg.HeaderName gives them), for searching by any header: at
	// most MaxSIPHeaders, each value at most MaxHeaderValue bytes;
	// Authorization and Proxy-Authorization are never kept (their digest
	// could be attacked offline). The index stores them for
	// CallFilter.Header but does not return them (the call's ladder has
	// the messages); they are not part of the JSON form.
	SIPHeaders []SIPHeader
	// HeadersCut counts what those bounds cut: header fields dropped past
	// MaxSIPHeaders, values and user agents truncated.
	HeadersCut int
	// LinkKeys are what ties the call to its other legs: the media
	// endpoints of its final SDP, correlation header values, transfer
	// targets (see package call). The index links the calls that share a
	// key and overlap in time. They are not part of the JSON form.
	LinkKeys []string
	// LegalHold, when not nil, keeps the call from every deletion (see
	// LegalHold). The index sets it; PutCall ignores it, so a call
	// indexed again keeps its hold.
	LegalHold *LegalHold
}

// CallTag is one tag on a call with who put it there and when (Call.Tags
// are the tags alone).
type CallTag struct {
	Tag  string    `json:"tag"`
	User string    `json:"user"`
	At   time.Time `json:"at"`
}

// CallNote is a note a person wrote on a call (Call.Notes are the
// recorder's own remarks).
type CallNote struct {
	ID     int64     `json:"id"`
	CallID CallID    `json:"call_id"`
	User   string    `json:"user"`
	At     time.Time `json:"at"`
	Text   string    `json:"text"`
}

// SIPHeader is one header field of a call's INVITE.
type SIPHeader struct {
	Name  string // lower case, compact forms spelled out
	Value string
}

// Bounds of the SIP headers a call keeps.
const (
	MaxSIPHeaders  = 64
	MaxHeaderName  = 64
	MaxHeaderValue = 256
)

// CallFilter selects calls in CallIndex.Calls. Zero fields do not filter.
type CallFilter struct {
	Number    string // caller or callee number contains this
	Since     time.Time
	Until     time.Time
	Direction Direction
	Status    Status
	// MinDuration and MaxDuration bound the talk time (Call.Duration),
	// both inclusive.
	MinDuration time.Duration
	MaxDuration time.Duration
	// Codec selects calls that used this codec (Call.Codecs), ignoring
	// case.
	Codec string
	// Interaction selects the legs of one conversation (Call.Interaction).
	Interaction CallID
	// GroupInteraction returns one call per conversation: of the calls
	// that match, the earliest leg of each interaction.
	GroupInteraction bool
	// HasLoss, when set, selects calls whose CaptureLoss equals *HasLoss.
	HasLoss *bool
	// Signalling selects calls found this way: SignallingSIP or
	// SignallingNone.
	Signalling string
	// Sensor selects calls recorded by this sensor (Call.Sensor),
	// exactly.
	Sensor string
	// Tag selects calls that carry this tag (Call.Tags), exactly.
	Tag string
	// NoteText selects calls with a note (CallNote) that contains this
	// text, ignoring case.
	NoteText string
	// Extensions, when not empty, selects calls whose caller or callee
	// number is exactly one of them: what an agent may see.
	Extensions []string
	// HeaderName and HeaderValue select calls whose INVITE had a header
	// field of that name (lower case) with that value (exactly, or with
	// * standing for any text).
	HeaderName, HeaderValue string
	// UserAgent selects calls where either side's user agent contains
	// this text, ignoring case.
	UserAgent string
	// SIPCallID selects calls with this SIP Call-ID, exactly.
	SIPCallID string
	// Addr selects calls that had this address as a party's signalling
	// address or an RTP stream's source or destination.
	Addr netip.Addr
	// HangupBy selects calls ended by this party: HangupCaller,
	// HangupCallee, HangupSystem, or "unknown" for HangupUnknown.
	HangupBy string
	// StatusCode selects calls whose final SIP answer had this code.
	StatusCode int
	// MinPDD and MaxPDD bound the post-dial delay, MinRing and MaxRing
	// the ring time, both inclusive; a bound excludes the calls where it
	// was not measured.
	MinPDD, MaxPDD   time.Duration
	MinRing, MaxRing time.Duration
	// Sort orders the calls by one of the SortKeys, ascending, or
	// descending with a leading "-" ("-start", newest first, is the
	// default when empty). Calls without a value (no MOS, no PDD) come
	// last either way; ties are broken by ID.
	Sort string
	// After, when set, selects only the calls that come after it in the
	// order Sort gives (by its sort key, then ID): the previous page's
	// last call, for paging through any number of calls (keyset
	// pagination) without Offset's cost and without skipping or
	// repeating calls when others are added meanwhile. Only its ID is
	// read: its sort key is the index's.
	After  *Call
	Limit  int // 0: no limit
	Offset int
	// ScanLimit, when above 0, bounds a search that no index serves
	// (UnindexedTerm): it examines only the newest ScanLimit calls (by
	// start time, then ID) that Since, Until and Extensions select, and
	// its calls and counts are those of these calls; the index's
	// SearchStop says whether it stopped so. 0 examines every call. The
	// web UI and spanrec calls set MaxUnindexedScan; no search parameter
	// sets it.
	ScanLimit int
}

// Call sort orders for CallFilter.Sort.
const (
	SortStartDesc    = "-start"
	SortStart        = "start"
	SortDuration     = "duration"
	SortDurationDesc = "-duration"
)

// SortKeys are the keys CallFilter.Sort takes, one per column of the
// call list: start time, caller and callee number, direction, talk time
// ("duration", or "talk"), status, final SIP code, first codec, number of
// legs, worst MOS ("mos", or "quality"), post-dial delay, ring time, who
// hung up and the sensor that recorded the call. (The list's Flags column
// shows several facts at once and has no order.)
var SortKeys = []string{
	"start", "caller", "callee", "direction", "duration", "talk", "status", "status_code",
	"codec", "legs", "mos", "quality", "pdd", "ring", "hangup_by", "sensor",
}

// CallIndex stores call records and answers searches. The sqlite package
// implements it.
type CallIndex interface {
	// PutCall inserts c, or replaces the call with the same ID.
	PutCall(ctx context.Context, c *Call) error
	// Call returns the call with the given ID, or an error of kind ENOTFOUND.
	Call(ctx context.Context, id CallID) (*Call, error)
	// Calls returns the calls that match f in the order f.Sort asks,
	// newest first by default.
	Calls(ctx context.Context, f CallFilter) ([]*Call, error)
}
