package api

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// LiveAudio opens the decoded audio of calls in progress: recorder.Listen
// over the data directory, wired by cmd/spanrec.
type LiveAudio interface {
	// Listen opens the audio of the call in progress id. Its errors have
	// kind spanrec.ENOTFOUND for a call not in progress and
	// spanrec.ECONFLICT, with the reason, for one without decoded audio
	// (encrypted media without keys, a codec not decoded, no media yet).
	Listen(id spanrec.CallID) (AudioStream, error)
}

// AudioStream is the audio of a call as it goes on.
type AudioStream interface {
	// Rate returns the sample rate (Hz) of the 16-bit stereo samples.
	Rate() int
	// Next returns the next samples (interleaved caller, callee; valid
	// until the next call) when they are due, in real time; io.EOF when
	// the call has ended.
	Next(ctx context.Context) ([]int16, error)
	Close() error
}

// Bounds of listening: streams in all, and of one user.
const (
	maxListens        = 32
	maxListensPerUser = 2
)

// listenSlot takes one of the listening streams for user, as liveSlot.
func (s *Server) listenSlot(user string) (func(), error) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if s.listenUsers == nil {
		s.listenUsers = map[string]int{}
	}
	switch {
	case s.listenTotal >= maxListens:
		s.metrics.limitHit("listens")
		return nil, &retryError{spanrec.Errorf(eUnavailable, "too many people listen to calls now; try again later"), 30}
	case s.listenUsers[user] >= maxListensPerUser:
		s.metrics.limitHit("listens_per_user")
		return nil, &retryError{spanrec.Errorf(eTooMany, "you listen to %d calls already", maxListensPerUser), 30}
	}
	s.listenTotal++
	s.listenUsers[user]++
	return func() {
		s.liveMu.Lock()
		defer s.liveMu.Unlock()
		s.listenTotal--
		if s.listenUsers[user]--; s.listenUsers[user] <= 0 {
			delete(s.listenUsers, user)
		}
	}, nil
}

// listen streams the decoded audio of a call in progress, a few seconds
// behind, as a WAV of unknown length (16-bit stereo PCM: caller left,
// callee right) that a browser's audio element plays as it comes. Only
// supervisors and admins may listen; each listen is audited (listen: who,
// which call, when) before the first byte, and refused (503) if the entry
// cannot be written. A call without decoded audio is answered 409 with
// the reason: nothing that was not decoded is ever played. The stream ends
// with the call, or within LiveRecheck of the session or token ending.
func (s *Server) listen(w http.ResponseWriter, r *http.Request, p *principal) error {
	if roleRank[p.user.Role] < roleRank[auth.Supervisor] {
		return forbidden("listening to calls in progress needs the supervisor or admin role")
	}
	id := r.PathValue("id")
	if !validID(id) {
		return invalid("%q is not a call ID", id)
	}
	if s.cfg.LiveAudio == nil {
		return spanrec.Errorf(spanrec.ENOTFOUND, "listening to calls in progress is not available on this server")
	}
	free, err := s.listenSlot(p.user.Name)
	if err != nil {
		return err
	}
	defer free()
	st, err := s.cfg.LiveAudio.Listen(spanrec.CallID(id))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := s.auditStrict(r, p.user.Name, auth.ActionListen, spanrec.CallID(id), ""); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Accept-Ranges", "none")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := w.Write(streamingWAVHeader(st.Rate())); err != nil {
		return nil
	}
	recheck := time.Now().Add(s.cfg.LiveRecheck)
	var buf []byte
	for {
		pcm, err := st.Next(r.Context())
		if err != nil {
			if !errors.Is(err, io.EOF) && r.Context().Err() == nil {
				s.log.Warn("api: listen", "call_id", id, "err", err)
			}
			return nil
		}
		buf = buf[:0]
		for _, v := range pcm {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
		}
		if _, err := w.Write(buf); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		if time.Now().After(recheck) {
			recheck = time.Now().Add(s.cfg.LiveRecheck)
			np, err := s.authenticate(r)
			if err != nil || roleRank[np.user.Role] < roleRank[auth.Supervisor] {
				s.metrics.liveClosed("listen_unauthorized")
				return nil
			}
		}
	}
}

// streamingWAVHeader returns the 44-byte header of a 16-bit stereo WAVE
// stream at rate Hz whose length is not known: its RIFF and data sizes
// are the largest a WAVE header can hold, which players read as "until the
// stream ends".
func streamingWAVHeader(rate int) []byte {
	const channels, bits = 2, 16
	const data = 0xFFFFFFFF - 36 - (0xFFFFFFFF-36)%(channels*bits/8)
	b := make([]byte, 0, 44)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, 36+data)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, data)
	return b
}
