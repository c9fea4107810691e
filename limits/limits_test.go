package limits

import (
	"sync"
	"testing"
)

func TestBudget(t *testing.T) {
	b := New(100)
	if !b.Take(TCP, 60) || !b.Take(HeldMedia, 40) {
		t.Fatal("a take within the limit was refused")
	}
	if b.Take(Calls, 1) {
		t.Fatal("a take past the limit was granted")
	}
	b.Evicted(TCP, 60)
	b.Free(TCP, 60)
	if !b.Take(Calls, 50) {
		t.Fatal("a take after a free was refused")
	}
	s := b.Stats()
	if s.Used != 90 || s.Peak != 100 || s.Limit != 100 {
		t.Errorf("used %d peak %d limit %d, want 90 100 100", s.Used, s.Peak, s.Limit)
	}
	if k := s.Kinds[TCP]; k.Held != 0 || k.Evictions != 1 || k.EvictedBytes != 60 {
		t.Errorf("tcp: %+v", k)
	}
	if s.Kinds[Calls].Held != 50 || s.Evictions() != 1 {
		t.Errorf("calls: %+v", s.Kinds[Calls])
	}
}

func TestBudgetNilAndUnlimited(t *testing.T) {
	var b *Budget
	if !b.Take(TCP, 1<<40) {
		t.Error("a nil Budget refused")
	}
	b.Free(TCP, 1)
	u := New(0)
	if !u.Take(TCP, 1<<40) || u.Stats().Used != 1<<40 {
		t.Error("an unlimited Budget refused or did not count")
	}
}

// TestBudgetConcurrent: the shards and the worker share a Budget; the
// limit holds under concurrent takes.
func TestBudgetConcurrent(t *testing.T) {
	b := New(1000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10000 {
				if b.Take(Calls, 7) {
					b.Free(Calls, 7)
				}
			}
		}()
	}
	wg.Wait()
	if s := b.Stats(); s.Used != 0 || s.Peak > 1000 {
		t.Errorf("used %d peak %d", s.Used, s.Peak)
	}
}

func TestDefaultMemory(t *testing.T) {
	m := DefaultMemory()
	if m < 16<<20 {
		t.Errorf("default budget %d bytes", m)
	}
	t.Logf("default budget: %d MiB", m>>20)
}

// TestTakeOver: a holding taken past the limit is held and freed like any
// other, and shows as a peak over the limit.
func TestTakeOver(t *testing.T) {
	b := New(100)
	if !b.Take(Calls, 90) || b.Take(Calls, 20) {
		t.Fatal("Take within and past the limit")
	}
	b.TakeOver(Calls, 20)
	s := b.Stats()
	if s.Used != 110 || s.Peak != 110 || s.Kinds[Calls].Held != 110 {
		t.Errorf("after TakeOver: used %d, peak %d, held %d; want 110", s.Used, s.Peak, s.Kinds[Calls].Held)
	}
	b.Free(Calls, 20)
	if b.Take(Calls, 20) {
		t.Error("Take past the limit after the holding over it was freed")
	}
	if s := b.Stats(); s.Used != 90 || s.Peak != 110 {
		t.Errorf("after Free: used %d, peak %d; want 90, 110", s.Used, s.Peak)
	}
}
