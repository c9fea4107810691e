package api

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Login limits. A login attempt is counted against three keys before its
// password is checked (reserve), so that attempts made in parallel cannot
// pass a limit: the user name from the client address (LoginFailures), the
// client address across names (× addressFactor: password spraying), and the
// user name across addresses (× nameFactor: guessing from many addresses).
// A successful login gives its attempt back and clears its name-address
// key.
const (
	addressFactor = 6
	nameFactor    = 4
)

// knownTTL is how long an address a user logged in from is exempt from the
// per-name limit of that user, so that attackers spread over many addresses
// cannot lock the user out where the user usually logs in.
const knownTTL = 30 * 24 * time.Hour

// maxKeys bounds the limiter's memory (its keys and known addresses, each
// under 300 bytes with at most 30 times) against a flood of distinct names
// and addresses: about 30 MB at most.
const maxKeys = 100_000

// Scopes of a login limit, as the metrics name them.
const (
	scopeNameAddress = "name_address"
	scopeAddress     = "address"
	scopeName        = "name"
)

// limiter counts login attempts per key in a sliding window. It is safe
// for concurrent use; time is passed in.
type limiter struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	fails   map[string][]time.Time // attempt times within the window, oldest first
	known   map[string]time.Time   // name\x00address → last successful login
	evicted uint64                 // keys dropped because maxKeys was reached
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}, known: map[string]time.Time{}}
}

// ticket is an attempt reserve counted, to give back on success.
type ticket struct {
	name, addr string
	keys       []string
	at         time.Time
	// fills are the scopes of the keys this attempt brought to their
	// limit: if it fails, a block of those scopes begins.
	fills []string
}

func nameAddressKey(name, addr string) string { return "u\x00" + name + "\x00" + addr }

// limit is the number of attempts that blocks key, and its scope.
func (l *limiter) limit(key string) (int, string) {
	switch key[0] {
	case 'a':
		return l.max * addressFactor, scopeAddress
	case 'n':
		return l.max * nameFactor, scopeName
	}
	return l.max, scopeNameAddress
}

// reserve counts an attempt to log in as name from addr at now, unless a
// key is at its limit: then it counts nothing and returns how long until
// the attempt would be allowed and the scope of the limit that blocks it.
func (l *limiter) reserve(name, addr string, now time.Time) (t ticket, wait time.Duration, scope string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := []string{nameAddressKey(name, addr), "a\x00" + addr}
	if k, seen := l.known[name+"\x00"+addr]; !seen || now.Sub(k) > knownTTL {
		keys = append(keys, "n\x00"+name)
	}
	for _, k := range keys {
		fs := l.prune(k, now)
		if n, sc := l.limit(k); len(fs) >= n {
			// Free again when the attempt that made the count n leaves.
			if w := fs[len(fs)-n].Add(l.window).Sub(now); w > wait {
				wait, scope = w, sc
			}
		}
	}
	if wait > 0 {
		return ticket{}, wait, scope, false
	}
	l.makeRoom(now, len(keys))
	t = ticket{name: name, addr: addr, keys: keys, at: now}
	for _, k := range keys {
		l.fails[k] = append(l.fails[k], now)
		if n, sc := l.limit(k); len(l.fails[k]) == n {
			t.fills = append(t.fills, sc)
		}
	}
	return t, 0, "", true
}

// release gives back the attempt of t: it was not checked.
func (l *limiter) release(t ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range t.keys {
		fs := l.fails[k]
		for i := len(fs) - 1; i >= 0; i-- {
			if fs[i].Equal(t.at) {
				fs = append(fs[:i], fs[i+1:]...)
				break
			}
		}
		if len(fs) == 0 {
			delete(l.fails, k)
		} else {
			l.fails[k] = fs
		}
	}
}

// succeed gives back the attempt of t, which logged in: the name-address
// key is cleared, and the address is known for the name.
func (l *limiter) succeed(t ticket, now time.Time) {
	l.release(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, nameAddressKey(t.name, t.addr))
	l.makeRoom(now, 1)
	l.known[t.name+"\x00"+t.addr] = now
}

// makeRoom keeps the keys and known addresses under maxKeys when n are
// about to be added: first by dropping what has expired, then, under a
// flood, an arbitrary half (counted in evicted; a dropped key's attempts
// are forgotten, a dropped known address is subject to the name limit).
func (l *limiter) makeRoom(now time.Time, n int) {
	if len(l.fails)+len(l.known)+n <= maxKeys {
		return
	}
	for k := range l.fails {
		l.prune(k, now)
	}
	for k, at := range l.known {
		if now.Sub(at) > knownTTL {
			delete(l.known, k)
		}
	}
	if len(l.fails)+len(l.known)+n <= maxKeys {
		return
	}
	for k := range l.fails {
		if len(l.fails)+len(l.known)+n <= maxKeys/2 {
			return
		}
		delete(l.fails, k)
		l.evicted++
	}
	for k := range l.known {
		if len(l.fails)+len(l.known)+n <= maxKeys/2 {
			return
		}
		delete(l.known, k)
		l.evicted++
	}
}

// prune drops key's attempts older than the window and returns the rest.
func (l *limiter) prune(key string, now time.Time) []time.Time {
	fs := l.fails[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-l.window)) {
		i++
	}
	if i == len(fs) {
		delete(l.fails, key)
		return nil
	}
	fs = fs[i:]
	l.fails[key] = fs
	return fs
}

// evictions returns the number of keys dropped under a flood.
func (l *limiter) evictions() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evicted
}

// limitAddr is the part of a client address the login limits count: the
// address, or for IPv6 its /64, which one subscriber usually holds whole.
func limitAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// checkGate bounds the password checks that run at once. Each Argon2id
// check holds its memory cost (19 MiB at the default) until it returns, so
// slots × cost is the most the checks hold together; a login that finds no
// free slot waits up to wait, and no more than maxWaiters logins wait.
type checkGate struct {
	slots      chan struct{}
	wait       time.Duration
	maxWaiters int64

	waiting  atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64 // the most checks that ran at once
	checks   atomic.Uint64
	shed     atomic.Uint64 // logins answered 503 for want of a slot
}

func newCheckGate(slots int, wait time.Duration) *checkGate {
	return &checkGate{slots: make(chan struct{}, slots), wait: wait, maxWaiters: int64(32 * slots)}
}

// acquire takes a slot, waiting up to g.wait; it returns false if there was
// none (or ctx ended). The caller calls done when the check has returned.
func (g *checkGate) acquire(ctx context.Context) bool {
	select {
	case g.slots <- struct{}{}:
		g.started()
		return true
	default:
	}
	if g.waiting.Add(1) > g.maxWaiters {
		g.waiting.Add(-1)
		g.shed.Add(1)
		return false
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		g.started()
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	g.shed.Add(1)
	return false
}

func (g *checkGate) started() {
	g.checks.Add(1)
	n := g.inFlight.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// done frees the slot of a check that has returned.
func (g *checkGate) done() {
	g.inFlight.Add(-1)
	<-g.slots
}
