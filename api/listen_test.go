package api_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
)

// recorderAudio is the LiveAudio cmd/spanrec wires: recorder.Listen
// over the fixture's data directory.
type recorderAudio struct{ dir string }

func (a recorderAudio) Listen(id spanrec.CallID) (api.AudioStream, error) {
	l, err := recorder.Listen(a.dir, id, recorder.ListenConfig{})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// listening is an open GET /api/live/calls/{id}/audio.
type listening struct {
	res    *http.Response
	rate   int
	cancel func()
}

func (c *client) listen(t *testing.T, id spanrec.CallID) (*listening, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/live/calls/"+string(id)+"/audio", nil)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, res.StatusCode, string(b)
	}
	l := &listening{res: res, cancel: func() { cancel(); res.Body.Close() }}
	t.Cleanup(l.cancel)
	if ct := res.Header.Get("Content-Type"); ct != "audio/wav" {
		t.Fatalf("Content-Type %q", ct)
	}
	var hdr [44]byte
	if _, err := io.ReadFull(res.Body, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:16]) != "WAVEfmt " || string(hdr[36:40]) != "data" ||
		binary.LittleEndian.Uint16(hdr[20:]) != 1 || binary.LittleEndian.Uint16(hdr[22:]) != 2 || binary.LittleEndian.Uint16(hdr[34:]) != 16 {
		t.Fatalf("not a 16-bit stereo PCM WAV header: % x", hdr)
	}
	l.rate = int(binary.LittleEndian.Uint32(hdr[24:]))
	return l, http.StatusOK, ""
}

// read returns the next d of audio as its two channels.
func (l *listening) read(t *testing.T, d time.Duration) (left, right []int16, err error) {
	t.Helper()
	frames := int(d * time.Duration(l.rate) / time.Second)
	b := make([]byte, 4*frames)
	n, err := io.ReadFull(l.res.Body, b)
	for i := 0; i+4 <= n; i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(b[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(b[i+2:])))
	}
	return left, right, err
}

// TestListen: a supervisor listens to a call in progress recorded by a
// real recorder: the stream is a WAV whose left channel carries the
// caller's tone and right the callee's, the listen is in the audit log,
// and the stream ends with the call. An agent is refused (and the refusal
// audited), anonymous too; an SRTP call without keys is refused with the
// reason, never played; a call not in progress is 404.
func TestListen(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.LiveAudio = recorderAudio{c.DataDir} })
	calls := pcaptest.Concurrent(2, time.Second, 12*time.Second)
	calls[1].SRTP = &pcaptest.SRTP{OutOfBand: true} // SRTP whose keys are not in the SDP
	run := recordLive(t, f, pcaptest.Options{Seed: 5, Calls: calls}, 1)
	run.feed.releaseAll()
	active := waitAnswered(t, f, 2)
	plain, srtp := active[0], active[1]
	if plain.Caller.Number != calls[0].Caller.Number || srtp.Caller.Number != calls[1].Caller.Number {
		t.Fatalf("calls in progress %s, %s; want %s then %s", plain.Caller.Number, srtp.Caller.Number, calls[0].Caller.Number, calls[1].Caller.Number)
	}
	sue, ada, agnes, anon := f.login(t, "sue"), f.login(t, "ada"), f.login(t, "agnes"), f.client(t)

	// The journal and the spool get the call and its first audio at the
	// recorder's next flush: until then 404, then 409 (no audio yet).
	var l *listening
	deadline := time.Now().Add(10 * time.Second)
	for {
		var code int
		var body string
		if l, code, body = sue.listen(t, plain.ID); l != nil {
			break
		}
		if code != http.StatusConflict && code != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("listen: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The stream starts 3 s behind the newest audio, before the answer
	// here: the fourth second has both tones.
	left, right, err := l.read(t, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tones := []float64{float64(calls[0].Caller.Tone), float64(calls[0].Callee.Tone)}
	for _, ch := range []struct {
		name string
		pcm  []int16
		want float64
	}{{"left (caller)", left, tones[0]}, {"right (callee)", right, tones[1]}} {
		pcm := ch.pcm[len(ch.pcm)-l.rate:]
		if f, share := audio.DominantFrequency(pcm, l.rate, tones); f != ch.want || share < 0.5 {
			t.Errorf("%s: %v Hz (%.2f of the power), want the %v Hz tone", ch.name, f, share, ch.want)
		}
	}

	// Each listen is audited: who, which call.
	var audit struct {
		Entries []struct {
			User, Action string
			CallID       string `json:"call_id"`
		}
	}
	ada.getJSON("/api/audit?action=listen", http.StatusOK, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].User != "sue" || audit.Entries[0].CallID != string(plain.ID) {
		t.Errorf("audit entries for listen: %+v", audit.Entries)
	}

	// Agents and anonymous may not listen.
	if _, code, body := agnes.listen(t, plain.ID); code != http.StatusForbidden {
		t.Errorf("agent: %d %s", code, body)
	}
	if _, code, body := anon.listen(t, plain.ID); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d %s", code, body)
	}
	ada.getJSON("/api/audit?action=access_denied&user=agnes", http.StatusOK, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].CallID != string(plain.ID) {
		t.Errorf("agent's refusal not audited: %+v", audit.Entries)
	}
	// Encrypted media without keys: nothing to play, and the reason.
	if _, code, body := ada.listen(t, srtp.ID); code != http.StatusConflict || !strings.Contains(body, "encrypted") {
		t.Errorf("SRTP call without keys: %d %s", code, body)
	}
	// A call long indexed is not in progress.
	if _, code, body := ada.listen(t, f.calls[0].ID); code != http.StatusNotFound {
		t.Errorf("indexed call: %d %s", code, body)
	}
	// Two listens per user at most.
	l2, _, _ := sue.listen(t, plain.ID)
	if l2 == nil {
		t.Fatal("second listen refused")
	}
	if _, code, body := sue.listen(t, plain.ID); code != http.StatusTooManyRequests {
		t.Errorf("third listen: %d %s", code, body)
	}
	l2.cancel()

	// The stream ends with the call.
	var total int
	for {
		left, _, err := l.read(t, time.Second)
		total += len(left)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if total > 30*l.rate {
			t.Fatal("the stream goes on past the call")
		}
	}
	if total < 4*l.rate {
		t.Errorf("%d s of audio in all, want most of the 12 s call", total/l.rate)
	}
}

// waitAnswered waits until the server knows n calls in progress, all
// answered, and returns them in start order.
func waitAnswered(t *testing.T, f *fixture, n int) []*spanrec.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		calls := f.api.Events().Active()
		ok := len(calls) == n
		for _, c := range calls {
			ok = ok && !c.Answer.IsZero()
		}
		if ok {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in progress, want %d answered", len(calls), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
