package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/render"
)

// ListenConfig configures Listen. The zero value means the defaults.
type ListenConfig struct {
	// Delay is how far behind the newest audio on disk listening plays:
	// default (and least) 3 s, enough for the recorder's flush (every
	// second), its reorder window and its noise guard, which cuts a track
	// where undecodable media began before that audio is read.
	Delay time.Duration
	// MaxRate caps the sample rate: 8000 or 16000 (the default).
	MaxRate int
}

// Bounds of listening.
const (
	minListenDelay = 3 * time.Second
	listenChunk    = 200 * time.Millisecond // audio Next returns at a time
	listenPrebuf   = time.Second            // returned at once at the start
	listenRecheck  = time.Second            // journal re-read: new tracks, the call's end
)

// A Listening is the decoded audio of one call in progress, read from the
// spool a live recorder (this process or another on the same data
// directory) writes: see Listen. It is not safe for concurrent use.
type Listening struct {
	dir     string
	id      spanrec.CallID
	delay   time.Duration
	fo      *render.Follower
	start   time.Time // wall time Next began
	sent    int64     // frames returned
	checked time.Time // wall time of the last journal re-read
	buf     []int16
	// Skipped is the audio jumped over because the reader fell too far
	// behind the call.
	Skipped time.Duration
}

// Listen opens the decoded audio of the call in progress id, recorded by
// a live recorder into dataDir, as stereo PCM (caller left, callee right)
// played cfg.Delay behind the newest audio on disk: the spooled tracks
// (see render.Follower), which hold only what was decoded. It returns an
// error of kind spanrec.ENOTFOUND when no recorder is recording that call
// now (its journal, spool/ID/call.json, is absent or its writer is gone),
// and of kind spanrec.ECONFLICT, saying why, when the call has no decoded
// audio to play: encrypted media without keys, codecs spanrec does not
// decode, or no media yet.
func Listen(dataDir string, id spanrec.CallID, cfg ListenConfig) (*Listening, error) {
	if !plainID(string(id)) {
		return nil, spanrec.Errorf(spanrec.EINVALID, "%q is not a call ID", id)
	}
	cfg.Delay = max(cfg.Delay, minListenDelay)
	if cfg.MaxRate <= 0 || cfg.MaxRate > 16000 {
		cfg.MaxRate = 16000
	}
	dir := filepath.Join(dataDir, "spool", string(id))
	j, err := inProgress(dir, id)
	if err != nil {
		return nil, err
	}
	tracks := spooledTracks(dir, j)
	if len(tracks) == 0 {
		return nil, spanrec.Errorf(spanrec.ECONFLICT, "%s", undecoded(j))
	}
	var edge time.Time
	for _, tr := range tracks {
		end := tr.Start.Add(time.Duration(tr.Samples() * int64(time.Second) / int64(tr.Rate())))
		edge = maxTime(edge, end)
	}
	l := &Listening{dir: dir, id: id, delay: cfg.Delay,
		fo: render.NewFollower(render.Rate(tracks, cfg.MaxRate), edge.Add(-cfg.Delay))}
	for _, tr := range tracks {
		if _, err := l.fo.Add(tr); err != nil {
			l.fo.Close()
			return nil, fmt.Errorf("listen to %s: %w", id, err)
		}
	}
	return l, nil
}

// plainID reports whether id looks like a call ID (lower-case hex), so
// that it can name a spool directory.
func plainID(id string) bool {
	if len(id) < 6 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// inProgress reads the journal of the call id in dir, if a running
// recorder writes it.
func inProgress(dir string, id spanrec.CallID) (*call.Journal, error) {
	j, err := call.ReadJournal(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "call %s is not in progress (it ended, or no recorder records into this data directory)", id)
	}
	if err != nil {
		return nil, fmt.Errorf("listen to %s: %w", id, err)
	}
	if j.ID != id || j.PID != os.Getpid() && !processAlive(j.PID) {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "call %s is not in progress (the recorder that recorded it stopped)", id)
	}
	return j, nil
}

// spooledTracks opens the tracks of j whose codec is decoded.
func spooledTracks(dir string, j *call.Journal) []*render.Track {
	var out []*render.Track
	for _, jt := range j.Tracks {
		cd, ok := codec.Lookup(jt.Codec, jt.ClockRate, jt.Channels)
		if !ok {
			continue
		}
		tr, err := render.OpenSpool(filepath.Join(dir, filepath.Base(jt.File)), jt.Side, cd, jt.Start)
		if err != nil {
			continue // created, not on disk yet
		}
		out = append(out, tr)
	}
	return out
}

// undecoded says why the call of j has no decoded audio.
func undecoded(j *call.Journal) string {
	var enc, codecs []string
	for _, s := range j.Streams {
		switch {
		case s.Encryption != spanrec.Plain:
			if e := string(s.Encryption); !strings.Contains(strings.Join(enc, ","), e) {
				enc = append(enc, e)
			}
		case s.Codec == "" || strings.EqualFold(s.Codec, "telephone-event") || strings.EqualFold(s.Codec, "CN"):
		default:
			if _, ok := codec.Lookup(s.Codec, s.ClockRate, 1); !ok && !strings.Contains(strings.Join(codecs, ","), s.Codec) {
				codecs = append(codecs, s.Codec)
			}
		}
	}
	switch {
	case len(enc) > 0:
		return fmt.Sprintf("the call's media is encrypted (%s) and was not decrypted: there is no audio to listen to", strings.Join(enc, ", "))
	case len(codecs) > 0:
		return fmt.Sprintf("the call's codec (%s) is not one spanrec decodes: there is no audio to listen to", strings.Join(codecs, ", "))
	case len(j.Streams) > 0:
		return "no audio of the call was decoded yet"
	}
	return "the call has no media yet (ringing, or its media is not mirrored)"
}

// Rate returns the sample rate of the audio (stereo, 16-bit).
func (l *Listening) Rate() int { return l.fo.Rate() }

// Position returns the capture time of the next frame Next returns.
func (l *Listening) Position() time.Time { return l.fo.Position() }

// Next returns the next piece of audio (interleaved stereo, valid until
// the next call), waiting until it is due: at the start a second at once,
// then 200 ms every 200 ms, in real time. It returns io.EOF when the call
// has ended (its spool is gone), and ctx's error when ctx is done. When
// the caller falls more than three delays behind the newest audio, the
// gap is skipped (Skipped).
func (l *Listening) Next(ctx context.Context) ([]int16, error) {
	rate := int64(l.fo.Rate())
	n := rate * int64(listenChunk) / int64(time.Second)
	now := time.Now()
	if l.start.IsZero() {
		l.start, l.checked = now, now
		n = rate * int64(listenPrebuf) / int64(time.Second)
	} else {
		due := l.start.Add(time.Duration((l.sent+n)*int64(time.Second)/rate) - listenPrebuf)
		if d := due.Sub(now); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	if time.Since(l.checked) >= listenRecheck {
		l.checked = time.Now()
		if err := l.refresh(); err != nil {
			return nil, err
		}
	}
	if !l.fo.Live() {
		return nil, io.EOF
	}
	if edge, ok := l.fo.Edge(); ok {
		if behind := edge.Sub(l.fo.Position()); behind > 3*l.delay {
			skip := behind - l.delay
			l.fo.Skip(int64(skip) * rate / int64(time.Second))
			l.Skipped += skip
		}
	}
	var err error
	l.buf, err = l.fo.Read(l.buf[:0], int(n))
	if err != nil {
		return nil, err
	}
	l.sent += n
	return l.buf, nil
}

// refresh re-reads the journal: io.EOF if the call is no longer in
// progress; tracks that came since (a re-INVITE to another codec, a new
// stream) are followed.
func (l *Listening) refresh() error {
	j, err := inProgress(l.dir, l.id)
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
		return io.EOF
	}
	if err != nil {
		return err
	}
	for _, tr := range spooledTracks(l.dir, j) {
		if !l.fo.Follows(tr.Path) {
			if _, err := l.fo.Add(tr); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close releases the spool files.
func (l *Listening) Close() error { return l.fo.Close() }

// Journals reads the calls in progress that live recorders write into a
// data directory, as their journals (spool/ID/call.json, rewritten at
// every flush) last saw them, for a server that runs apart from the
// recorder: parties, direction, status, start and answer times, codecs.
// Journals whose writer is gone (a recorder killed: Recover's work) are
// left out. A journal is parsed again only when its size or time changed,
// so that a poll of thousands of calls costs a stat each. A Journals is
// not safe for concurrent use.
type Journals struct {
	dataDir string
	cache   map[string]progressEntry
}

type progressEntry struct {
	size int64
	mod  time.Time
	pid  int
	call *spanrec.Call
}

// NewJournals returns a Journals over dataDir.
func NewJournals(dataDir string) *Journals {
	return &Journals{dataDir: dataDir, cache: map[string]progressEntry{}}
}

// Calls returns the calls in progress, at most limit (0: 20,000), and how
// many more there were.
func (p *Journals) Calls(limit int) ([]*spanrec.Call, int, error) {
	if limit <= 0 {
		limit = 20_000
	}
	ents, err := os.ReadDir(filepath.Join(p.dataDir, "spool"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("calls in progress: %w", err)
	}
	var out []*spanrec.Call
	more := 0
	next := make(map[string]progressEntry, len(p.cache))
	for _, e := range ents {
		if !e.IsDir() || !plainID(e.Name()) {
			continue // the pool's directory, and what no call names
		}
		if len(out) >= limit {
			more++
			continue
		}
		dir := filepath.Join(p.dataDir, "spool", e.Name())
		st, err := os.Stat(filepath.Join(dir, call.JournalFile))
		if err != nil {
			continue // not written yet
		}
		pe, ok := p.cache[e.Name()]
		if !ok || pe.size != st.Size() || !pe.mod.Equal(st.ModTime()) {
			j, err := call.ReadJournal(dir)
			if err != nil || j.ID != spanrec.CallID(e.Name()) {
				continue
			}
			c := j.Call()
			c.Status, c.End, c.Duration = j.Status, time.Time{}, 0
			pe = progressEntry{size: st.Size(), mod: st.ModTime(), pid: j.PID, call: c}
		}
		if pe.pid != os.Getpid() && !processAlive(pe.pid) {
			continue
		}
		next[e.Name()] = pe
		out = append(out, pe.call)
	}
	p.cache = next
	return out, more, nil
}
