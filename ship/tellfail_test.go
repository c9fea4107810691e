package ship_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/ship"
)

// pgProxy is a TCP proxy before a real PostgreSQL that can be taken
// down: its connections are cut, and new ones are accepted and never
// answered (a central side that hangs rather than refuses).
type pgProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	down     bool
	conns    []net.Conn
	accepted int // connections accepted while down
}

func startProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			down := p.down
			if down {
				p.accepted++
			}
			p.mu.Unlock()
			if !down {
				go p.forward(c)
			}
		}
	}()
	return p
}

func (p *pgProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// cut closes every connection.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	p.cut()
}

// TestTellWhileCentralHangs: with the central PostgreSQL hanging (its
// connections cut, new ones accepted and never answered), deletions on a
// sensor shipping rows only, through the real retention path (a user's and
// the disk guard's), do not each wait for it: the first tell gives up at
// TellTimeout, the others at once (the central side failed just before),
// and at most that one connection is tried. Every deletion finishes
// (files and local row gone) and is told at the next drain once the
// central side is back: the central rows name no files, one audit event
// each. Real PostgreSQL, four Wireshark samples.
func TestTellWhileCentralHangs(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, pu.Host)
	pu.Host = proxy.ln.Addr().String()
	s := newSensorNamed(t, "rome-1")
	var dbs []*postgres.DB
	t.Cleanup(func() {
		for _, db := range dbs {
			db.Close()
		}
	})
	const tellTimeout = 2 * time.Second
	sh := &ship.Shipper{Outbox: ship.Local{DB: s.local}, DataDir: s.data, Log: discard, TellTimeout: tellTimeout,
		Connect: func(ctx context.Context) (ship.Central, error) {
			db, err := postgres.Open(ctx, pu.String())
			if err != nil {
				return ship.Central{}, err
			}
			dbs = append(dbs, db)
			return ship.Central{Index: db}, nil
		}}
	for _, f := range []string{"wireshark-samples/sip-rtp-g722.pcap", "wireshark-samples/nb6-telephone.pcap",
		"wireshark-samples/SIP_DTMF2.pcap", "wireshark-samples/sip-rtp-gsm.pcap"} {
		s.record(t, f)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	calls := allCalls(t, s.local)
	if len(calls) < 4 {
		t.Fatalf("%d calls recorded", len(calls))
	}
	central, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	for id := range calls {
		if cc, err := central.Call(ctx, id); err != nil || (cc.Audio == "" && cc.PCAP == "") {
			t.Fatalf("call %s not shipped with its files named: %+v, %v", id, cc, err)
		}
	}

	proxy.setDown(true)
	sw := retention.New(retention.Config{MinFree: -1, Archive: sh, Logger: discard}, s.local, s.data)
	del := sw.Deleter()
	start := time.Now()
	i := 0
	for _, c := range calls {
		by := "ada"
		if i%2 == 1 {
			by = retention.ByDiskGuard
		}
		i++
		if err := del.Delete(ctx, c, by, "", "test deletion while the central side hangs"); err != nil {
			t.Fatalf("delete %s: %v", c.ID, err)
		}
	}
	took := time.Since(start)
	proxy.mu.Lock()
	tried := proxy.accepted
	proxy.mu.Unlock()
	t.Logf("%d deletions with the central side hanging took %v; %d connections tried", len(calls), took, tried)
	if tried > 1 {
		t.Errorf("%d connections to the hanging central side for %d deletions, want at most 1 (then back off)", tried, len(calls))
	}
	// Not a speed figure: without the bound and the backoff each
	// deletion waited for the hanging side (30 s connect timeout).
	if limit := time.Duration(len(calls)) * tellTimeout; took >= limit {
		t.Errorf("%d deletions took %v with the central side hanging, want under %v", len(calls), took, limit)
	}
	for id, c := range calls {
		if fileExists(s.data, c.PCAP) || fileExists(s.data, c.Audio) {
			t.Errorf("call %s: files left", id)
		}
		if _, err := s.local.Call(ctx, id); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("call %s still in the local index: %v", id, err)
		}
	}
	if n, _ := s.local.OutboxDeletionsBacklog(ctx); n != len(calls) {
		t.Errorf("%d deletions queued, want %d", n, len(calls))
	}

	proxy.setDown(false)
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkToldOnce(t, s, central, calls, "deleted on sensor rome-1")
}
