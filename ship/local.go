package ship

import (
	"context"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sqlite"
)

// Local is a sensor's SQLite index as a Shipper's Outbox whose calls are
// whole: sqlite.DB.Call leaves out the streams' quality over time and the
// INVITE header fields (the call page reads the one, searches by header
// the other), and a central PutCall of a call without them stores none.
type Local struct{ *sqlite.DB }

// Call returns the call with exactly this ID with its streams' quality and
// its SIP headers, or an error of kind ENOTFOUND.
func (l Local) Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error) {
	c, err := l.DB.Call(ctx, id)
	if err != nil {
		return nil, err
	}
	qs, err := l.DB.StreamQuality(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := range c.Streams {
		if i < len(qs) {
			c.Streams[i].Quality = qs[i]
		}
	}
	if c.SIPHeaders, err = l.DB.SIPHeaders(ctx, id); err != nil {
		return nil, err
	}
	return c, nil
}
