package indextest

import (
	"bufio"
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
)

// statsCaptures are the third-party captures the dashboard's aggregates
// are checked on: 17 calls, one declined, 17 RTP streams from three hosts,
// one of them with loss.
var statsCaptures = []string{
	"wireshark-samples/SIP_DTMF2.pcap",
	"wireshark-samples/sip-rtp-g726.pcap",
	"wireshark-samples/sip-rtp-l16.pcap",
	"wireshark-samples/sip-rtp-speex.pcap",
}

// tsharkView is what a capture's .expect.txt (tshark's view) says of it.
type tsharkView struct {
	calls, answered int                          // INVITE dialogs, and those with a 200 and no final failure
	hosts           map[string]*spanrec.HostLoss // RTP by source address
}

// readTshark reads the "-z rtp,streams" table and the "SIP calls" list of
// the expect files into v.
func readTshark(t *testing.T, path string, v *tsharkView) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := ""
	type dialog struct{ invite, ok, failed bool }
	dialogs := map[string]*dialog{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		fields := strings.Fields(line)
		switch {
		case strings.Contains(section, "rtp,streams") && len(fields) > 10 && strings.Contains(line, "(") && fields[0] != "Start":
			// Start End Src SrcPort Dst DstPort SSRC Payload... Pkts Lost (x%) ...
			i := slices.IndexFunc(fields, func(s string) bool { return strings.HasPrefix(s, "(") && strings.HasSuffix(s, "%)") })
			pkts, err1 := strconv.Atoi(fields[i-2])
			lost, err2 := strconv.Atoi(fields[i-1])
			if i < 2 || err1 != nil || err2 != nil {
				t.Fatalf("%s: unreadable RTP stream line %q", path, line)
			}
			h := v.hosts[fields[2]]
			if h == nil {
				h = &spanrec.HostLoss{Host: fields[2]}
				v.hosts[fields[2]] = h
			}
			h.Streams++
			h.Packets += pkts
			h.Lost += lost
		case strings.Contains(section, "SIP calls") && len(fields) >= 3:
			d := dialogs[fields[1]]
			if d == nil {
				d = &dialog{}
				dialogs[fields[1]] = d
			}
			switch code, err := strconv.Atoi(fields[2]); {
			case fields[2] == "INVITE":
				d.invite = true
			case err == nil && code == 200:
				d.ok = true
			case err == nil && code >= 300:
				d.failed = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dialogs {
		if d.invite {
			v.calls++
			if d.ok && !d.failed {
				v.answered++
			}
		}
	}
}

// testStats imports real captures and checks Stats against
// tshark's view of them (calls, answered calls, RTP packets and loss by
// sending host) and against the calls the index returns (per-bucket
// counts, the MOS histogram, the top talkers).
func (s *suite) testStats(t *testing.T) {
	caps := pcaptest.CapturesDir(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := s.fresh(t)
	want := tsharkView{hosts: map[string]*spanrec.HostLoss{}}
	// The captures are recorded by two sensors, alternately; tshark's
	// view of each gives the loss each sensor saw.
	sensors := map[string]*spanrec.HostLoss{}
	for i, name := range statsCaptures {
		path := filepath.Join(caps, name)
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sensor := []string{"sensor-a", "sensor-b"}[i%2]
		one := tsharkView{hosts: map[string]*spanrec.HostLoss{}}
		readTshark(t, path+".expect.txt", &one)
		if sensors[sensor] == nil {
			sensors[sensor] = &spanrec.HostLoss{Host: sensor}
		}
		for _, h := range one.hosts {
			sensors[sensor].Streams += h.Streams
			sensors[sensor].Packets += h.Packets
			sensors[sensor].Lost += h.Lost
		}
		cfg := recorder.Config{Call: call.Config{DataDir: dir, Sensor: sensor}, Renderers: 1, Logger: slog.New(slog.DiscardHandler)}
		sum, err := recorder.Import(ctx, cfg, src, db, nil)
		src.Close()
		if err != nil || sum.Errors > 0 {
			t.Fatalf("import %s: %v (%d errors)", name, err, sum.Errors)
		}
		readTshark(t, path+".expect.txt", &want)
	}
	calls, err := db.Calls(ctx, spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	first, last := calls[len(calls)-1].Start, calls[0].Start
	q := spanrec.StatsQuery{From: first.Truncate(24 * time.Hour), To: last.Truncate(24 * time.Hour).Add(24 * time.Hour), Bucket: 24 * time.Hour, Top: 100}
	st, err := db.Stats(ctx, q)
	if err != nil {
		t.Fatal(err)
	}

	if st.Calls != want.calls || st.Answered != want.answered {
		t.Errorf("stats: %d calls, %d answered; tshark: %d INVITE dialogs, %d answered", st.Calls, st.Answered, want.calls, want.answered)
	}
	if !st.First.Equal(first) || !st.Last.Equal(last) {
		t.Errorf("span %v..%v, want %v..%v", st.First, st.Last, first, last)
	}
	var wantLoss []spanrec.HostLoss
	for _, h := range want.hosts {
		wantLoss = append(wantLoss, *h)
	}
	slices.SortFunc(wantLoss, func(a, b spanrec.HostLoss) int {
		if a.Lost != b.Lost {
			return b.Lost - a.Lost
		}
		if a.Packets != b.Packets {
			return b.Packets - a.Packets
		}
		return strings.Compare(a.Host, b.Host)
	})
	if !slices.Equal(st.Loss, wantLoss) {
		t.Errorf("loss by host:\n got  %+v\n want %+v (tshark)", st.Loss, wantLoss)
	}
	var wantSensors []spanrec.HostLoss
	for _, h := range sensors {
		wantSensors = append(wantSensors, *h)
	}
	slices.SortFunc(wantSensors, func(a, b spanrec.HostLoss) int {
		if a.Lost != b.Lost {
			return b.Lost - a.Lost
		}
		if a.Packets != b.Packets {
			return b.Packets - a.Packets
		}
		return strings.Compare(a.Host, b.Host)
	})
	if len(wantSensors) != 2 || !slices.Equal(st.LossBySensor, wantSensors) {
		t.Errorf("loss by sensor:\n got  %+v\n want %+v (tshark, per capture)", st.LossBySensor, wantSensors)
	}

	// The index's own calls, counted in Go.
	buckets := make([]spanrec.StatsBucket, len(st.Buckets))
	var mos [spanrec.MOSBins]int
	noMOS := 0
	talkers := map[string]*spanrec.Talker{}
	for _, c := range calls {
		b := &buckets[int(c.Start.Sub(q.From)/q.Bucket)]
		b.Calls++
		if c.Status == spanrec.Answered {
			b.Answered++
		}
		for _, s := range c.Streams {
			switch {
			case s.MOS > 0 && !math.IsNaN(s.MOS):
				mos[min(spanrec.MOSBins-1, int((s.MOS-1)*2))]++
			default:
				noMOS++
			}
		}
		nums := []string{c.Caller.Number}
		if c.Callee.Number != c.Caller.Number {
			nums = append(nums, c.Callee.Number)
		}
		for _, n := range nums {
			if n == "" {
				continue
			}
			tk := talkers[n]
			if tk == nil {
				tk = &spanrec.Talker{Number: n}
				talkers[n] = tk
			}
			tk.Calls++
			tk.Talk += c.Duration
			if c.Status == spanrec.Answered {
				tk.Answered++
			}
		}
	}
	for i := range buckets {
		got := st.Buckets[i]
		if got.Calls != buckets[i].Calls || got.Answered != buckets[i].Answered {
			t.Errorf("bucket %s: %d calls, %d answered; want %d, %d", got.Start.Format(time.DateOnly), got.Calls, got.Answered, buckets[i].Calls, buckets[i].Answered)
		}
		if want := q.From.Add(time.Duration(i) * q.Bucket); !got.Start.Equal(want) {
			t.Errorf("bucket %d starts %v, want %v", i, got.Start, want)
		}
	}
	if mos != st.MOS || noMOS != st.NoMOS {
		t.Errorf("MOS histogram %v + %d without, want %v + %d", st.MOS, st.NoMOS, mos, noMOS)
	}
	var wantTalkers []spanrec.Talker
	for _, tk := range talkers {
		wantTalkers = append(wantTalkers, *tk)
	}
	slices.SortFunc(wantTalkers, func(a, b spanrec.Talker) int {
		if a.Calls != b.Calls {
			return b.Calls - a.Calls
		}
		return strings.Compare(a.Number, b.Number)
	})
	if !slices.Equal(st.Talkers, wantTalkers) {
		t.Errorf("talkers:\n got  %+v\n want %+v", st.Talkers, wantTalkers)
	}
	t.Logf("%d calls (%d answered), MOS %v (+%d without), loss %+v, talkers %+v", st.Calls, st.Answered, st.MOS, st.NoMOS, st.Loss, st.Talkers)
}

// testStatsBounds checks that Stats refuses the queries it must not run.
func (s *suite) testStatsBounds(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []spanrec.StatsQuery{
		{From: t0, To: t0, Bucket: time.Hour, Top: 10},
		{From: t0, To: t0.Add(time.Hour), Bucket: 0, Top: 10},
		{From: t0, To: t0.Add(time.Hour), Bucket: time.Hour, Top: 0},
		{From: t0, To: t0.Add(10001 * time.Hour), Bucket: time.Hour, Top: 10},
	} {
		if _, err := db.Stats(ctx, q); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("Stats(%+v): %v, want EINVALID", q, err)
		}
	}
	st, err := db.Stats(ctx, spanrec.StatsQuery{From: t0, To: t0.Add(3 * time.Hour), Bucket: time.Hour, Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Buckets) != 3 || st.Calls != 0 || !st.First.IsZero() || len(st.Loss) != 0 {
		t.Errorf("empty index: %+v", st)
	}
}
