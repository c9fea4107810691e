package keys

import "sync"

// Store holds the keys of a running recorder: replaced when the key file
// is read again (SIGHUP), added to by the API. It is safe for concurrent
// use; the zero Store is empty and ready.
type Store struct {
	mu  sync.RWMutex
	set Set
}

// NewStore returns a Store holding s (which it takes over; nil for none).
func NewStore(s *Set) *Store {
	st := &Store{}
	if s != nil {
		st.set = *s
	}
	return st
}

// Lookup returns the key log secrets of a TLS connection by its client
// random.
func (s *Store) Lookup(cr ClientRandom) (Secrets, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.TLS.Lookup(cr)
}

// Replace puts the keys of n in place of those held.
func (s *Store) Replace(n *Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = *n
}

// Add adds the keys of n to those held.
func (s *Store) Add(n *Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set.SDES = append(s.set.SDES[:len(s.set.SDES):len(s.set.SDES)], n.SDES...)
	// Copy on write: a KeyLog handed out before shares no map with this one.
	var k KeyLog
	k.Merge(&s.set.TLS)
	k.Merge(&n.TLS)
	s.set.TLS = k
}

// SDES returns the SDES keys held; the slice must not be changed.
func (s *Store) SDES() []SDES {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.SDES
}

// Len returns how many TLS connections and SDES keys are held.
func (s *Store) Len() (tls, sdes int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.TLS.Len(), len(s.set.SDES)
}
