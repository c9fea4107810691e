package api

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/spanrec/spanrec"
)

// QualityStore gives the quality over time of a call's streams; sqlite.DB
// has it. An Index without it answers /api/calls/{id}/quality 404.
type QualityStore interface {
	StreamQuality(ctx context.Context, id spanrec.CallID) ([]*spanrec.StreamQuality, error)
}

type streamQuality struct {
	SSRC      uint32                 `json:"ssrc"`
	Side      spanrec.Side           `json:"side"`
	Src       netip.AddrPort         `json:"src"`
	Dst       netip.AddrPort         `json:"dst"`
	Codec     string                 `json:"codec"`
	ClockRate int                    `json:"clock_rate"`
	Quality   *spanrec.StreamQuality `json:"quality"` // null: not measured (a call indexed before)
}

type qualityResponse struct {
	Streams []streamQuality `json:"streams"`
}

func (s *Server) quality(w http.ResponseWriter, r *http.Request, p *principal) error {
	qs, ok := s.cfg.Index.(QualityStore)
	if !ok {
		return spanrec.Errorf(spanrec.ENOTFOUND, "this index keeps no quality over time")
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	qual, err := qs.StreamQuality(r.Context(), c.ID)
	if err != nil {
		return err
	}
	res := qualityResponse{Streams: []streamQuality{}}
	for i, st := range c.Streams {
		sq := streamQuality{SSRC: st.SSRC, Side: st.Side, Src: st.Src, Dst: st.Dst, Codec: st.Codec, ClockRate: st.ClockRate}
		if i < len(qual) {
			sq.Quality = qual[i]
		}
		res.Streams = append(res.Streams, sq)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
