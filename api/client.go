package api

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey is the context key of the client address serveHTTP works out.
type clientKey struct{}

// clientAddr works out the address of the client that sent r. The direct
// peer is the client unless it is one of the trusted proxies: then
// X-Forwarded-For is read from the right, skipping trusted proxies, and the
// first address that is not one is the client (the addresses to its left
// were written by the client itself or by proxies no one vouches for). An
// entry that is not an address stops the walk at the last hop trusted.
// X-Real-IP is read, under the same rule, when X-Forwarded-For is absent.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r)
	if len(trusted) == 0 {
		return peer
	}
	client, err := netip.ParseAddr(peer)
	if err != nil || !inAny(client.Unmap(), trusted) {
		return peer
	}
	var hops []string
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			hops = append(hops, strings.Split(v, ",")...)
		}
	} else if xr := r.Header.Get("X-Real-IP"); xr != "" {
		hops = []string{xr}
	}
	// Bound the walk: a header of thousands of trusted hops is an attack.
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxHops; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !inAny(client, trusted) {
			break
		}
	}
	return client.String()
}

// maxHops bounds the proxies of X-Forwarded-For that are walked.
const maxHops = 16

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withClient returns r with its client address in its context.
func (s *Server) withClient(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, clientAddr(r, s.cfg.TrustedProxies)))
}

// remoteIP is the client's address as serveHTTP worked it out (honouring
// trusted proxies), or the peer's.
func remoteIP(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peerAddr(r)
}
