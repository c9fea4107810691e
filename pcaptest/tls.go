package pcaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"
)

// TLS configures the TLS connection of a call with Transport "tls". The
// handshake and the records are made by crypto/tls with fresh random keys,
// so that, unlike the rest of a capture, their bytes differ from run to
// run (and Write and Expected each make a connection of their own).
type TLS struct {
	// Version is tls.VersionTLS12 or tls.VersionTLS13 (default).
	Version uint16
	// CipherSuites are the TLS 1.2 suites offered (ECDSA certificate:
	// ECDHE_ECDSA suites); nil: Go's defaults. crypto/tls chooses the
	// TLS 1.3 suite itself.
	CipherSuites []uint16
	// KeyLog receives the NSS key log lines (SSLKEYLOGFILE format) of the
	// connection; may be nil.
	KeyLog io.Writer
}

const (
	// tlsHandshakeTime is the time the TLS handshake takes after the TCP
	// one, before the INVITE.
	tlsHandshakeTime = 4 * time.Millisecond
	// tlsFlightGap separates the handshake's writes.
	tlsFlightGap = 300 * time.Microsecond
)

// tlsChunk is what one side wrote on the connection at once.
type tlsChunk struct {
	fromCaller bool
	data       []byte
}

// tlsTap records what the ends of a net.Pipe write, in order.
type tlsTap struct {
	mu     sync.Mutex
	chunks []tlsChunk
}

type tapConn struct {
	net.Conn
	tap    *tlsTap
	caller bool
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.tap.mu.Lock()
	c.tap.chunks = append(c.tap.chunks, tlsChunk{c.caller, bytes.Clone(b)})
	c.tap.mu.Unlock()
	return c.Conn.Write(b)
}

// tlsWire runs the call's TLS connection (the caller is the client, RFC
// 3261 §26.2) with crypto/tls over net.Pipe: it returns the handshake's
// writes and, for each message of p, the TLS records that carry it.
func tlsWire(p *callPlan) (hs []tlsChunk, recs [][]byte, err error) {
	o := TLS{Version: tls.VersionTLS13}
	if p.c.TLS != nil {
		o = *p.c.TLS
		if o.Version == 0 {
			o.Version = tls.VersionTLS13
		}
	}
	cert, err := tlsCert()
	if err != nil {
		return nil, nil, err
	}
	tap := &tlsTap{}
	cp, sp := net.Pipe()
	defer cp.Close()
	defer sp.Close()
	srv := tls.Server(&tapConn{Conn: sp, tap: tap}, &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: o.Version, MaxVersion: o.Version,
		CipherSuites: o.CipherSuites, SessionTicketsDisabled: true,
	})
	cli := tls.Client(&tapConn{Conn: cp, tap: tap, caller: true}, &tls.Config{
		InsecureSkipVerify: true, // a generated certificate; nothing is verified here
		MinVersion:         o.Version, MaxVersion: o.Version, CipherSuites: o.CipherSuites, KeyLogWriter: o.KeyLog,
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		sp.Close()
		<-errc
		return nil, nil, fmt.Errorf("tls handshake: %w", err)
	}
	if err := <-errc; err != nil {
		return nil, nil, fmt.Errorf("tls handshake: %w", err)
	}
	hs = tap.chunks
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, srv) }()
	go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, cli) }()
	for _, m := range p.msgs {
		c := srv
		if m.fromCaller {
			c = cli
		}
		tap.mu.Lock()
		n := len(tap.chunks)
		tap.mu.Unlock()
		if _, err := c.Write(m.text); err != nil {
			return nil, nil, fmt.Errorf("tls write: %w", err)
		}
		tap.mu.Lock()
		var rec []byte
		for _, ch := range tap.chunks[n:] {
			rec = append(rec, ch.data...)
		}
		tap.mu.Unlock()
		recs = append(recs, rec)
	}
	cp.Close()
	sp.Close()
	wg.Wait()
	return hs, recs, nil
}

// tlsCert makes a self-signed ECDSA certificate for the callee.
func tlsCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx.pcaptest"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"pbx.pcaptest"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
