package api

import (
	"context"
	"net/http"
	"time"

	"github.com/spanrec/spanrec"
)

// StatsIndex is an index that computes the dashboard's aggregates;
// sqlite.DB is one. Without it GET /api/dashboard answers 404.
type StatsIndex interface {
	Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error)
}

// Bounds of the dashboard's range and lists.
const (
	maxDashboardRange = 366 * 24 * time.Hour
	// hourlyUpTo is the longest range shown per hour; longer ones are
	// shown per day.
	hourlyUpTo   = 7 * 24 * time.Hour
	dashboardTop = 10
)

type dashboardJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Range says how the range was chosen: "asked" (from and to given),
	// "last-24h" (the default), or "data" (the last 24 h had no call: the
	// span of the index's calls).
	Range         string           `json:"range"`
	BucketSeconds int64            `json:"bucket_seconds"`
	Calls         int              `json:"calls"`
	Answered      int              `json:"answered"`
	AnsweredRatio float64          `json:"answered_ratio"` // 0 without calls
	Buckets       []bucketJSON     `json:"buckets"`
	MOS           []mosBinJSON     `json:"mos"`
	NoMOS         int              `json:"streams_without_mos"`
	Loss          []lossJSON       `json:"loss_by_host"`
	LossBySensor  []sensorLossJSON `json:"loss_by_sensor"`
	Talkers       []talkerJSON     `json:"top_talkers"`
	First         *time.Time       `json:"first_call"`
	Last          *time.Time       `json:"last_call"`
}

type bucketJSON struct {
	Start    time.Time `json:"start"`
	Calls    int       `json:"calls"`
	Answered int       `json:"answered"`
}

type mosBinJSON struct {
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	Streams int     `json:"streams"`
}

type lossJSON struct {
	Host      string  `json:"host"`
	Streams   int     `json:"streams"`
	Packets   int     `json:"packets"`
	Lost      int     `json:"lost"`
	LossRatio float64 `json:"loss_ratio"` // lost / (packets + lost)
}

type sensorLossJSON struct {
	Sensor    string  `json:"sensor"` // "" for calls recorded without a sensor name
	Streams   int     `json:"streams"`
	Packets   int     `json:"packets"`
	Lost      int     `json:"lost"`
	LossRatio float64 `json:"loss_ratio"` // lost / (packets + lost)
}

type talkerJSON struct {
	Number      string  `json:"number"`
	Calls       int     `json:"calls"`
	Answered    int     `json:"answered"`
	TalkSeconds float64 `json:"talk_seconds"`
}

// dashboard answers the aggregates of the calls that started in a range:
// from and to if given (at most 366 days apart), else the last 24 h, or,
// when those had no call, the span of the index's calls (its last 366
// days at most). Ranges up to 7 days are counted per hour, longer ones per
// day (UTC).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *principal) error {
	si, ok := s.cfg.Index.(StatsIndex)
	if !ok {
		return spanrec.Errorf(spanrec.ENOTFOUND, "this index computes no dashboard")
	}
	var from, to time.Time
	for k, vs := range r.URL.Query() {
		if len(vs) != 1 {
			return invalid("parameter %s given %d times", k, len(vs))
		}
		var err error
		switch k {
		case "from":
			from, err = parseTime(k, vs[0])
		case "to":
			to, err = parseTime(k, vs[0])
		default:
			err = invalid("unknown parameter %q", k)
		}
		if err != nil {
			return err
		}
	}
	how := "asked"
	switch {
	case from.IsZero() != to.IsZero():
		return invalid("give both from and to, or neither")
	case from.IsZero():
		how = "last-24h"
		to = s.cfg.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		from = to.Add(-24 * time.Hour)
	case !from.Before(to):
		return invalid("from must be before to")
	case to.Sub(from) > maxDashboardRange:
		return invalid("the range is longer than %d days", int(maxDashboardRange/(24*time.Hour)))
	}
	st, err := s.stats(r.Context(), si, from, to)
	if err != nil {
		return err
	}
	if how == "last-24h" && st.Calls == 0 && !st.First.IsZero() {
		how = "data"
		to = st.Last.Truncate(time.Hour).Add(time.Hour)
		from = st.First.Truncate(time.Hour)
		if earliest := to.Add(-maxDashboardRange); from.Before(earliest) {
			from = earliest
		}
		if st, err = s.stats(r.Context(), si, from, to); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, dashboardOf(st, how))
	return nil
}

// stats asks si for the aggregates of [from, to), per hour or per day.
func (s *Server) stats(ctx context.Context, si StatsIndex, from, to time.Time) (*spanrec.CallStats, error) {
	bucket := time.Hour
	if to.Sub(from) > hourlyUpTo {
		bucket = 24 * time.Hour
	}
	return si.Stats(ctx, spanrec.StatsQuery{From: from, To: to, Bucket: bucket, Top: dashboardTop})
}

func dashboardOf(st *spanrec.CallStats, how string) dashboardJSON {
	d := dashboardJSON{
		From: st.From.UTC(), To: st.To.UTC(), Range: how, BucketSeconds: int64(st.Bucket / time.Second),
		Calls: st.Calls, Answered: st.Answered, NoMOS: st.NoMOS,
		Buckets: []bucketJSON{}, MOS: []mosBinJSON{}, Loss: []lossJSON{}, Talkers: []talkerJSON{},
	}
	if st.Calls > 0 {
		d.AnsweredRatio = float64(st.Answered) / float64(st.Calls)
	}
	for _, b := range st.Buckets {
		d.Buckets = append(d.Buckets, bucketJSON{Start: b.Start.UTC(), Calls: b.Calls, Answered: b.Answered})
	}
	for i, n := range st.MOS {
		d.MOS = append(d.MOS, mosBinJSON{Low: 1 + float64(i)/2, High: 1.5 + float64(i)/2, Streams: n})
	}
	for _, h := range st.Loss {
		l := lossJSON{Host: h.Host, Streams: h.Streams, Packets: h.Packets, Lost: h.Lost}
		if h.Packets+h.Lost > 0 {
			l.LossRatio = float64(h.Lost) / float64(h.Packets+h.Lost)
		}
		d.Loss = append(d.Loss, l)
	}
	d.LossBySensor = []sensorLossJSON{}
	for _, h := range st.LossBySensor {
		l := sensorLossJSON{Sensor: h.Host, Streams: h.Streams, Packets: h.Packets, Lost: h.Lost}
		if h.Packets+h.Lost > 0 {
			l.LossRatio = float64(h.Lost) / float64(h.Packets+h.Lost)
		}
		d.LossBySensor = append(d.LossBySensor, l)
	}
	for _, t := range st.Talkers {
		d.Talkers = append(d.Talkers, talkerJSON{Number: t.Number, Calls: t.Calls, Answered: t.Answered, TalkSeconds: t.Talk.Seconds()})
	}
	if !st.First.IsZero() {
		f, l := st.First.UTC(), st.Last.UTC()
		d.First, d.Last = &f, &l
	}
	return d
}
