package spanrec

import (
	"encoding/json"
	"time"
)

// callJSON is the wire form of a Call: flat, times in RFC 3339 UTC, paths
// relative to the data directory.
type callJSON struct {
	ID          CallID          `json:"id"`
	CallID      string          `json:"call_id"`
	Caller      string          `json:"caller"`
	CallerName  string          `json:"caller_name,omitempty"`
	CallerAddr  string          `json:"caller_addr,omitempty"`
	Callee      string          `json:"callee"`
	CalleeName  string          `json:"callee_name,omitempty"`
	CalleeAddr  string          `json:"callee_addr,omitempty"`
	Direction   Direction       `json:"direction"`
	Status      Status          `json:"status"`
	StatusCode  int             `json:"status_code,omitempty"`
	StatusText  string          `json:"status_reason,omitempty"`
	HangupBy    Hangup          `json:"hangup_by,omitempty"`
	PDDMS       *int64          `json:"pdd_ms"`
	RingMS      *int64          `json:"ring_ms"`
	Start       string          `json:"start"`
	Answer      *string         `json:"answer"`
	End         string          `json:"end"`
	DurationMS  int64           `json:"duration_ms"`
	Codecs      []string        `json:"codecs"`
	Audio       string          `json:"audio"`
	AudioSHA256 string          `json:"audio_sha256,omitempty"`
	AudioStart  *string         `json:"audio_start,omitempty"`
	AudioMS     int64           `json:"audio_ms"`
	PCAP        string          `json:"pcap"`
	PCAPSHA256  string          `json:"pcap_sha256,omitempty"`
	DTMF        []DTMF          `json:"dtmf"`
	Streams     []Stream        `json:"streams"`
	CaptureLoss bool            `json:"capture_loss"`
	Notes       []string        `json:"notes"`
	Holds       []Hold          `json:"holds"`
	Signalling  string          `json:"signalling"`
	Sensor      string          `json:"sensor,omitempty"`
	Interaction CallID          `json:"interaction,omitempty"`
	Legs        []CallID        `json:"legs"`
	Copies      []CallCopy      `json:"copies,omitempty"`
	AudioFrom   map[Side]CallID `json:"audio_from,omitempty"`
	Tags        []string        `json:"tags"`
	CallerUA    string          `json:"caller_user_agent,omitempty"`
	CalleeUA    string          `json:"callee_user_agent,omitempty"`
	HeadersCut  int             `json:"sip_headers_cut,omitempty"`
	LegalHold   *legalHoldJSON  `json:"legal_hold"`
}

// legalHoldJSON is the wire form of a LegalHold.
type legalHoldJSON struct {
	By     string `json:"by"`
	At     string `json:"at"`
	Reason string `json:"reason"`
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timeString(t)
	return &s
}

func addrString(p Party) string {
	if !p.Addr.IsValid() {
		return ""
	}
	return p.Addr.String()
}

// MarshalJSON writes the call in its flat wire form.
func (c *Call) MarshalJSON() ([]byte, error) {
	j := callJSON{
		ID: c.ID, CallID: c.SIPCallID,
		Caller: c.Caller.Number, CallerName: c.Caller.Name, CallerAddr: addrString(c.Caller),
		Callee: c.Callee.Number, CalleeName: c.Callee.Name, CalleeAddr: addrString(c.Callee),
		Direction: c.Direction, Status: c.Status, StatusCode: c.StatusCode,
		StatusText: c.StatusReason, HangupBy: c.HangupBy,
		PDDMS: msPtr(c.PDD), RingMS: msPtr(c.RingTime),
		Start: timeString(c.Start), Answer: timePtr(c.Answer), End: timeString(c.End),
		DurationMS: c.Duration.Milliseconds(),
		Codecs:     nonNil(c.Codecs),
		Audio:      c.Audio, AudioSHA256: c.AudioSHA256, AudioStart: timePtr(c.AudioStart), AudioMS: c.AudioMS,
		PCAP: c.PCAP, PCAPSHA256: c.PCAPSHA256,
		DTMF: nonNil(c.DTMF), Streams: nonNil(c.Streams),
		CaptureLoss: c.CaptureLoss, Notes: nonNil(c.Notes),
		Holds: nonNil(c.Holds), Signalling: c.Signalling, Sensor: c.Sensor,
		Interaction: c.Interaction, Legs: nonNil(c.Legs),
		Copies: c.Copies, AudioFrom: c.AudioFrom,
		Tags:     nonNil(c.Tags),
		CallerUA: c.CallerUA, CalleeUA: c.CalleeUA, HeadersCut: c.HeadersCut,
	}
	if j.Signalling == "" {
		j.Signalling = SignallingSIP
	}
	if h := c.LegalHold; h != nil {
		j.LegalHold = &legalHoldJSON{By: h.By, At: timeString(h.At), Reason: h.Reason}
	}
	return json.Marshal(j)
}

// msPtr returns d in milliseconds, or nil (JSON null) when d is 0: not
// measured.
func msPtr(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	ms := d.Milliseconds()
	return &ms
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MarshalJSON writes the hold with its times in RFC 3339 UTC, like the
// call's.
func (h Hold) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Side  Side   `json:"side"`
		Start string `json:"start"`
		End   string `json:"end"`
	}{h.Side, timeString(h.Start), timeString(h.End)})
}
