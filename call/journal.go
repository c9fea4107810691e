package call

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spanrec/spanrec"
)

// JournalFile is the name of a call's journal in its spool directory.
const JournalFile = "call.json"

// Journal is what the Assembler keeps on disk about a call in progress
// when Config.Journal is set: spool/<id>/call.json, beside the call's audio
// tracks (one file per track, see render.SpoolExt). If the recorder dies
// (kill -9, power loss), the journal, the tracks (flushed by Flush) and the
// call's pcapng are enough to write the call's recording and index entry
// at the next start (see package recorder).
//
// Flush appends a new version of the journal, one JSON document per line,
// when the call's dialog changed or it got a new track since the last
// Flush; not per packet. The last line that parses is the journal, so a
// line torn by a crash leaves the version before it. Appending creates the
// file once per call, where a rewrite by rename would create one per
// version (file creation is what costs most on some file systems); past
// maxJournal bytes the file is rewritten by rename with the last version
// alone.
type Journal struct {
	Version int `json:"version"`
	// PID is the process that writes the journal, so that a recorder
	// starting beside a running one leaves that one's calls alone.
	PID int `json:"pid"`
	// Updated is the packet time of the call's last packet when the
	// journal was last rewritten.
	Updated time.Time `json:"updated"`
	// Last is the packet time of the call's last packet at that rewrite.
	Last time.Time `json:"last"`

	ID         spanrec.CallID    `json:"id"`
	SIPCallID  string            `json:"call_id"`
	Caller     spanrec.Party     `json:"caller"`
	Callee     spanrec.Party     `json:"callee"`
	Direction  spanrec.Direction `json:"direction"`
	Status     spanrec.Status    `json:"status"`
	StatusCode int               `json:"status_code,omitempty"`
	// StatusReason, HangupBy, PDD and RingTime are the call's (see
	// spanrec.Call).
	StatusReason string           `json:"status_reason,omitempty"`
	HangupBy     spanrec.Hangup   `json:"hangup_by,omitempty"`
	PDD          time.Duration    `json:"pdd,omitempty"`
	RingTime     time.Duration    `json:"ring_time,omitempty"`
	Start        time.Time        `json:"start"`
	Answer       time.Time        `json:"answer"`
	End          time.Time        `json:"end"`
	FirstMedia   time.Time        `json:"first_media"`
	Codecs       []string         `json:"codecs,omitempty"`
	DTMF         []spanrec.DTMF   `json:"dtmf,omitempty"`
	Streams      []spanrec.Stream `json:"streams,omitempty"`
	Notes        []string         `json:"notes,omitempty"`
	// CallerUA, CalleeUA, SIPHeaders and HeadersCut are the call's (see
	// spanrec.Call), so that a crash does not lose what search by user
	// agent or header finds; the headers at most maxJournalHeaders bytes
	// (names and values), the rest counted in HeadersCut.
	CallerUA   string              `json:"caller_ua,omitempty"`
	CalleeUA   string              `json:"callee_ua,omitempty"`
	SIPHeaders []spanrec.SIPHeader `json:"sip_headers,omitempty"`
	HeadersCut int                 `json:"headers_cut,omitempty"`
	// Signalling is "none" for a signalless call ("" reads as SIP).
	Signalling string `json:"signalling,omitempty"`
	// CallerTag and CalleeTag are the dialog's tags (see spanrec.Call).
	CallerTag string `json:"caller_tag,omitempty"`
	CalleeTag string `json:"callee_tag,omitempty"`
	// PCAP and Audio are the paths of the call's pcapng and of its future
	// WAV, relative to the data directory.
	PCAP  string `json:"pcap,omitempty"`
	Audio string `json:"audio"`
	// Tracks are the audio tracks in the spool directory.
	Tracks []JournalTrack `json:"tracks"`
}

// JournalTrack describes one spooled audio track.
type JournalTrack struct {
	File      string       `json:"file"` // name in the spool directory
	Side      spanrec.Side `json:"side"`
	Codec     string       `json:"codec"`
	ClockRate int          `json:"clock_rate"`
	Channels  int          `json:"channels"`
	// Start is the capture time of the track's first sample.
	Start time.Time `json:"start"`
}

// maxJournal is the size past which a journal file is compacted.
const maxJournal = 64 << 10

// maxJournalHeaders bounds the bytes of SIP header names and values a
// journal version holds, JSON-escaped (a call keeps up to
// spanrec.MaxSIPHeaders of up to spanrec.MaxHeaderValue bytes: 16 KiB,
// up to six times that escaped), so that each version stays well under
// maxJournal.
const maxJournalHeaders = 8 << 10

// journalHeaders returns the first headers of hs that fit
// maxJournalHeaders, and how many did not.
func journalHeaders(hs []spanrec.SIPHeader) ([]spanrec.SIPHeader, int) {
	n := 0
	for i, h := range hs {
		n += jsonLen(h.Name) + jsonLen(h.Value)
		if n > maxJournalHeaders {
			return hs[:i], len(hs) - i
		}
	}
	return hs, 0
}

// jsonLen is the length of s in a JSON string as encoding/json writes it
// (HTML characters escaped; s is valid UTF-8 without control characters,
// as headerText makes it).
func jsonLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&':
			n += 5 // \u003c
		case '"', '\\':
			n++
		case 0xe2: // U+2028 and U+2029 (3 bytes) become 6
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
				n += 3
			}
		}
	}
	return n
}

// ReadJournal reads the journal of the spool directory dir: the last line
// of its file that parses (see Journal).
func ReadJournal(dir string) (*Journal, error) {
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		return nil, fmt.Errorf("call: journal: %w", err)
	}
	var firstErr error
	for rest := bytes.TrimRight(b, "\n"); len(rest) > 0; {
		line := rest
		if i := bytes.LastIndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[i+1:], rest[:i]
		} else {
			rest = nil
		}
		var j Journal
		err := json.Unmarshal(line, &j)
		if err == nil {
			return &j, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("empty")
	}
	return nil, fmt.Errorf("call: journal %s: %w", dir, firstErr)
}

// Call returns the call as the journal last saw it, with the status a
// dialog closed at that point gets (an unanswered call in progress counts
// as not answered).
func (j *Journal) Call() *spanrec.Call {
	c := &spanrec.Call{
		ID:           j.ID,
		SIPCallID:    j.SIPCallID,
		Caller:       j.Caller,
		Callee:       j.Callee,
		Direction:    j.Direction,
		Status:       j.Status,
		StatusCode:   j.StatusCode,
		StatusReason: j.StatusReason,
		HangupBy:     j.HangupBy,
		PDD:          j.PDD,
		RingTime:     j.RingTime,
		Start:        j.Start,
		Answer:       j.Answer,
		End:          j.End,
		Codecs:       j.Codecs,
		DTMF:         j.DTMF,
		Streams:      j.Streams,
		PCAP:         j.PCAP,
		Notes:        slices.Clone(j.Notes),
		Signalling:   j.Signalling,
		CallerUA:     j.CallerUA,
		CalleeUA:     j.CalleeUA,
		SIPHeaders:   slices.Clone(j.SIPHeaders),
		HeadersCut:   j.HeadersCut,
		CallerTag:    j.CallerTag,
		CalleeTag:    j.CalleeTag,
	}
	if c.Signalling == "" {
		c.Signalling = spanrec.SignallingSIP
	}
	if c.Status == spanrec.Ongoing || c.Status == "" {
		c.Status = spanrec.NoAnswer
		if !c.Answer.IsZero() {
			c.Status = spanrec.Answered
		}
	}
	if c.End.IsZero() || c.End.Before(j.Last) {
		c.End = j.Last
	}
	for _, s := range c.Streams {
		if s.Lost > 0 {
			c.CaptureLoss = true
		}
	}
	return c
}

// writeJournal rewrites c's journal (see Journal).
func (a *Assembler) writeJournal(c *state) {
	d := c.d
	j := Journal{
		Version:      1,
		PID:          os.Getpid(),
		Updated:      c.last,
		Last:         c.last,
		ID:           c.id,
		SIPCallID:    d.CallID,
		Caller:       d.Caller,
		Callee:       d.Callee,
		Direction:    a.cfg.Networks.Direction(d.Caller, d.Callee),
		Status:       d.Status,
		StatusCode:   d.Code,
		StatusReason: d.Reason,
		HangupBy:     d.HangupBy,
		PDD:          d.PDD(),
		RingTime:     d.RingTime(),
		Start:        d.Start,
		Answer:       d.Answer,
		End:          d.End,
		FirstMedia:   c.firstMedia,
		DTMF:         d.DTMF,
		Notes:        c.notes,
		Signalling:   c.signalling(),
		Audio:        relPath(a.cfg.DataDir, c.base+".wav"),
		CallerUA:     c.ua[spanrec.CallerSide],
		CalleeUA:     c.ua[spanrec.CalleeSide],
		CallerTag:    bounded(d.CallerTag),
		CalleeTag:    bounded(d.CalleeTag),
	}
	var cut int
	j.SIPHeaders, cut = journalHeaders(c.headers)
	j.HeadersCut = c.headersCut + cut
	if c.pcap != nil {
		j.PCAP = relPath(a.cfg.DataDir, c.base+".pcapng")
	}
	for _, f := range c.flows {
		for _, s := range f.streams {
			j.Streams = append(j.Streams, s.snapshot(f))
		}
	}
	j.Codecs = c.codecs()
	for _, tr := range c.tracks {
		j.Tracks = append(j.Tracks, JournalTrack{
			File: filepath.Base(tr.Path), Side: tr.Side, Codec: tr.Codec.Name,
			ClockRate: tr.Codec.ClockRate, Channels: tr.Codec.Channels, Start: tr.Start,
		})
	}
	a.writeJournalOf(c, j)
}

// writeJournalOf appends j to c's journal file, or rewrites the file with
// j alone when it is new or past maxJournal.
func (a *Assembler) writeJournalOf(c *state, j Journal) {
	b, err := json.Marshal(&j)
	if err != nil {
		a.fileError(c, err)
		return
	}
	b = append(b, '\n')
	if err := a.cfg.Spool.MkdirAll(c.spool); err != nil {
		a.fileError(c, err)
		return
	}
	path := filepath.Join(c.spool, JournalFile)
	if c.journalSize > 0 && c.journalSize+len(b) <= maxJournal {
		if err := appendFile(path, b); err != nil {
			// A torn line is skipped by ReadJournal, but the next
			// version must not continue it: rewrite the file.
			c.journalSize = maxJournal + 1
			a.fileError(c, err)
			return
		}
		c.journalSize += len(b)
		return
	}
	tmp := path + ".tmp"
	f, err := a.cfg.Spool.Create(tmp)
	if err == nil {
		_, err = f.Write(b)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		a.fileError(c, err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		a.fileError(c, err)
		return
	}
	c.journalSize = len(b)
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Close())
}

// relPath returns path relative to dir, with forward slashes.
func relPath(dir, path string) string {
	r, err := filepath.Rel(dir, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}
