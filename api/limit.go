package api

import (
	"sync"
	"time"
)

// limiter counts failed logins per key in a sliding window. It is safe for
// concurrent use; time is passed in.
type limiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time // failure times within the window, oldest first
}

// maxKeys bounds the limiter's memory against a flood of distinct names.
const maxKeys = 100_000

// ipFactor: a client address alone may fail this many times max, across
// all names (password spraying).
const ipFactor = 6

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

// limit is the number of failures that blocks key. Keys starting "a" are
// per client address.
func (l *limiter) limit(key string) int {
	if key != "" && key[0] == 'a' {
		return l.max * ipFactor
	}
	return l.max
}

// blocked reports whether one of keys has reached its limit at now, and
// how long until it is not.
func (l *limiter) blocked(keys []string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		fs := l.prune(k, now)
		if n := l.limit(k); len(fs) >= n {
			// Free again when the failure that made the count n leaves.
			if w := fs[len(fs)-n].Add(l.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, wait > 0
}

// fail records a failure for every key at now.
func (l *limiter) fail(keys []string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxKeys {
		for k := range l.fails {
			if len(l.prune(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
		if len(l.fails) >= maxKeys {
			clear(l.fails)
		}
	}
	for _, k := range keys {
		fs := append(l.prune(k, now), now)
		if n := l.limit(k); len(fs) > n {
			fs = fs[len(fs)-n:]
		}
		l.fails[k] = fs
	}
}

// reset forgets the failures of key (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// prune drops key's failures older than the window and returns the rest.
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
