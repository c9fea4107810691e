package api

import (
	"net"
	"sync"
	"sync/atomic"
)

// LimitListener returns a listener that keeps at most max connections of
// ln open: past it, Accept waits until one closes, and the connection
// waits in the kernel's backlog. Each wait is counted in /metrics
// (spanrec_http_limit_hits_total{limit="connections"}), with the open
// connections (spanrec_http_connections_open). It bounds the memory and
// file descriptors that many idle or slow clients can hold.
func (s *Server) LimitListener(ln net.Listener, max int) net.Listener {
	l := &limitListener{Listener: ln, s: s, sem: make(chan struct{}, max), done: make(chan struct{})}
	s.conns = l
	return l
}

type limitListener struct {
	net.Listener
	s     *Server
	sem   chan struct{}
	done  chan struct{}
	close sync.Once
	open  atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	default:
		l.s.metrics.limitHit("connections")
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	l.open.Add(1)
	return &limitConn{Conn: c, release: sync.OnceFunc(func() {
		l.open.Add(-1)
		<-l.sem
	})}, nil
}

func (l *limitListener) Close() error {
	l.close.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
