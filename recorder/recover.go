package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/render"
)

// InterruptedNote is the note Recover adds to the calls it finishes.
const InterruptedNote = "recording interrupted (recorder stopped unexpectedly); recovered up to the last flush"

// Recover finishes the calls that a recorder which stopped unexpectedly
// (kill -9, crash, power loss) left in the spool of cfg.Call.DataDir: for
// every spool directory with a journal (call.JournalFile) whose writer is
// not running any more, it mixes the spooled tracks into the call's WAV,
// hashes its pcapng (cut after its last flushed record, which readers
// accept), writes the call to the index with InterruptedNote, and deletes
// the spool directory. Spool directories without a journal (an import in
// progress) are left alone. It returns the number of calls recovered; a
// call that cannot be recovered is logged, counted in the error and left
// in place. events, if not nil, gets a CallRecovered event per call.
//
// Call it before recording starts (spanrec record and import do).
func Recover(ctx context.Context, cfg Config, index spanrec.CallIndex, events func(Event)) (int, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	dataDir := cfg.Call.DataDir
	spool := filepath.Join(dataDir, "spool")
	ents, err := os.ReadDir(spool)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	n := 0
	var errs []error
	var leftovers []string // spool directories of calls without a journal
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(spool, e.Name())
		j, err := call.ReadJournal(dir)
		if errors.Is(err, os.ErrNotExist) {
			if cfg.Locked && e.Name() != render.PoolDir {
				leftovers = append(leftovers, e.Name())
			}
			continue
		}
		if err != nil {
			// A crash tears at most the last version of a journal, and
			// ReadJournal then takes the one before: this one was
			// damaged some other way.
			log.Error("recover call", "spool", dir, "err", err)
			errs = append(errs, err)
			continue
		}
		if j.PID != os.Getpid() && processAlive(j.PID) {
			log.Debug("spool belongs to a running recorder", "spool", dir, "pid", j.PID)
			continue
		}
		c, err := recoverCall(ctx, cfg.Call, dir, j, index)
		if err != nil {
			log.Error("recover call", "spool", dir, "call_id", j.SIPCallID, "err", err)
			errs = append(errs, fmt.Errorf("recover %s: %w", dir, err))
			continue
		}
		n++
		log.Warn("recovered an interrupted call", "id", c.ID, "call_id", c.SIPCallID, "audio", c.Audio, "audio_ms", c.AudioMS)
		if events != nil {
			events(Event{Kind: CallRecovered, Call: c})
		}
	}
	if len(leftovers) > 0 {
		errs = append(errs, removeLeftovers(ctx, dataDir, leftovers, index, log))
	}
	return n, errors.Join(errs...)
}

// removeLeftovers removes what an import killed in the middle left of
// the calls it had in progress: their spool directories (an import keeps
// no journal: nothing there can be recovered) and their pcapngs (and a
// WAV, if the kill came between the WAV and the index) in recordings/,
// which no index row points to; a re-import records those calls again.
// Only a writer that holds the data directory's lock may call it.
func removeLeftovers(ctx context.Context, dataDir string, ids []string, index spanrec.CallIndex, log *slog.Logger) error {
	var errs []error
	var bytes int64
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		dir := filepath.Join(dataDir, "spool", id)
		bytes += dirSize(dir)
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove spool leftover: %w", err))
		}
		want[id] = true
	}
	files := 0
	err := filepath.WalkDir(filepath.Join(dataDir, "recordings"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		ext := filepath.Ext(path)
		id := strings.TrimSuffix(d.Name(), ext)
		if (ext != ".pcapng" && ext != ".wav") || !want[id] {
			return nil
		}
		if _, err := index.Call(ctx, spanrec.CallID(id)); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			return nil // indexed (or the index cannot tell): kept
		}
		if st, err := d.Info(); err == nil {
			bytes += st.Size()
		}
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("remove leftover: %w", err))
		} else {
			files++
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	log.Warn("removed what an interrupted import left", "spool_dirs", len(ids), "recording_files", files, "bytes", bytes)
	return errors.Join(errs...)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if st, err := d.Info(); err == nil {
				n += st.Size()
			}
		}
		return nil
	})
	return n
}

func recoverCall(ctx context.Context, cc call.Config, dir string, j *call.Journal, index spanrec.CallIndex) (*spanrec.Call, error) {
	dataDir := cc.DataDir
	c := j.Call()
	c.Sensor = cc.Sensor
	c.Notes = append(c.Notes, InterruptedNote)
	var tracks []*render.Track
	var audioEnd time.Time
	for _, jt := range j.Tracks {
		cd, ok := codec.Lookup(jt.Codec, jt.ClockRate, jt.Channels)
		if !ok {
			continue
		}
		tr, err := render.OpenSpool(filepath.Join(dir, filepath.Base(jt.File)), jt.Side, cd, jt.Start)
		if err != nil {
			continue // the track was created but nothing reached the disk
		}
		if tr.Samples() == 0 {
			continue
		}
		tracks = append(tracks, tr)
		if end := tr.Start.Add(time.Duration(tr.Samples() * int64(time.Second) / int64(tr.Rate()))); end.After(audioEnd) {
			audioEnd = end
		}
	}
	if audioEnd.After(c.End) {
		c.End = audioEnd
	}
	if !c.Answer.IsZero() && c.End.After(c.Answer) {
		c.Duration = c.End.Sub(c.Answer)
	}
	// The recording covers the talk time plus early media, as for a call
	// that ended normally.
	from := c.Answer
	if !j.FirstMedia.IsZero() && (from.IsZero() || j.FirstMedia.Before(from)) {
		from = j.FirstMedia
	}
	if len(tracks) > 0 && !from.IsZero() && audioEnd.After(from) && j.Audio != "" {
		path := filepath.Join(dataDir, filepath.FromSlash(j.Audio))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		res, err := render.MixWith(path, tracks, from, audioEnd, render.MixOptions{Sync: true, MaxRate: cc.AudioMaxRate})
		if err != nil {
			return nil, err
		}
		c.Audio = j.Audio
		c.AudioSHA256 = res.SHA256
		c.AudioStart = from
		c.AudioMS = res.Length.Milliseconds()
		c.Notes = append(c.Notes, res.Notes...)
	}
	if c.PCAP != "" {
		sum, err := hashFile(filepath.Join(dataDir, filepath.FromSlash(c.PCAP)))
		if err != nil {
			c.PCAP = ""
		} else {
			c.PCAPSHA256 = sum
		}
	}
	if err := index.PutCall(ctx, c); err != nil {
		return nil, fmt.Errorf("index call: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return c, fmt.Errorf("remove spool: %w", err)
	}
	return c, nil
}
