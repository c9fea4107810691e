package capture

import (
	"errors"
	"time"
)

// LiveConfig configures one live capture socket (see OpenLive). The zero
// value of a field means its default.
type LiveConfig struct {
	// Interface is the name of the network interface to read, e.g. "eth1".
	Interface string
	// RingMB is the size of the memory-mapped receive ring shared with the
	// kernel, in MiB; default 64. The ring absorbs bursts while the
	// pipeline is busy: at 100,000 packets/s of 200 bytes, 64 MiB is
	// about three seconds.
	RingMB int
	// Snaplen is the most bytes kept of each frame; default 262144 (the
	// whole frame, even a 64 KiB GRO aggregate).
	Snaplen int
	// FanoutGroup, when not 0, joins the socket to this PACKET_FANOUT group
	// in hash mode with IP defragmentation (PACKET_FANOUT_FLAG_DEFRAG):
	// open several sockets on one interface with the same group and the
	// kernel spreads the flows over them, every packet of a flow (and every
	// fragment of a datagram) to the same socket. Groups are per network
	// namespace and per interface: use a different id for each interface.
	FanoutGroup uint16
	// NoPromisc leaves the interface's promiscuous mode alone. By default
	// the socket turns it on (PACKET_MR_PROMISC membership), and the kernel
	// turns it off again when the socket closes, even if the process is
	// killed.
	NoPromisc bool
	// Filter, if not nil, is compiled to a classic BPF program and attached
	// to the socket: the kernel drops the frames it rejects before they
	// reach the ring.
	Filter *Filter
	// PollTimeout is how long ReadFrame waits for a frame before it returns
	// ErrTimeout; default 100 ms.
	PollTimeout time.Duration
}

// Defaults of LiveConfig.
const (
	DefaultRingMB      = 64
	DefaultSnaplen     = 262144
	DefaultPollTimeout = 100 * time.Millisecond
)

func (c *LiveConfig) defaults() {
	if c.RingMB <= 0 {
		c.RingMB = DefaultRingMB
	}
	if c.Snaplen <= 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = DefaultPollTimeout
	}
}

// LiveStats counts what a live source captured and what the kernel dropped.
type LiveStats struct {
	Interface string
	// Packets and Bytes count the frames ReadFrame returned.
	Packets uint64
	Bytes   uint64
	// KernelPackets counts the frames that passed the socket filter,
	// including those dropped (tp_packets).
	KernelPackets uint64
	// KernelDrops counts the frames the kernel dropped because the ring
	// was full (tp_drops): frames this recorder never saw.
	KernelDrops uint64
	// QueueFreezes counts the times the ring was full (tp_freeze_q_cnt).
	QueueFreezes uint64
}

// ErrTimeout is returned by the ReadFrame of a live source when no frame
// came within its poll timeout. It is not an end: call ReadFrame again (and
// check for shutdown in between).
var ErrTimeout = errors.New("capture: no frame within the poll timeout")

// ErrClosed is returned by ReadFrame after Close.
var ErrClosed = errors.New("capture: source closed")
