package limits

import "sync/atomic"

// Disk is the disk guard's verdict on the data directory's file system,
// shared by the guard, which sets it, and the call assemblers, which read
// it when a call starts: while it is Full, new calls keep no audio and no
// pcap (their metadata is still indexed, with a note), so that a full disk
// never corrupts the index nor stops the recorder. Calls in progress keep
// writing. A Disk is safe for concurrent use; a nil *Disk is never full.
type Disk struct {
	full    atomic.Bool
	refused atomic.Uint64
}

// Full reports whether new calls must keep no audio.
func (d *Disk) Full() bool { return d != nil && d.full.Load() }

// SetFull sets the verdict and reports whether it changed.
func (d *Disk) SetFull(full bool) bool {
	if d == nil {
		return false
	}
	return d.full.Swap(full) != full
}

// Refuse counts a call started without audio because the disk was full.
func (d *Disk) Refuse() {
	if d != nil {
		d.refused.Add(1)
	}
}

// Refused returns the number of calls started without audio because the
// disk was full.
func (d *Disk) Refused() uint64 {
	if d == nil {
		return 0
	}
	return d.refused.Load()
}
