package capture

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
)

// Ring geometry. TPACKET_V3 hands the ring over in blocks: a block is
// returned to user space when it is full or when the retire timeout runs
// out, so the ring holds at least blocks × timeout of traffic even at low
// rates. A frame longer than a block is cut to it by the kernel.
const (
	liveBlockSize    = 256 << 10
	liveFrameSize    = 2048 // only sizes tp_frame_nr; V3 packs frames by length
	liveBlockTimeout = 20 * time.Millisecond
)

// liveSource reads one AF_PACKET socket with a TPACKET_V3 ring.
type liveSource struct {
	cfg  LiveConfig
	tp   *afpacket.TPacket
	link uint32

	packets atomic.Uint64
	bytes   atomic.Uint64

	mu     sync.Mutex // guards tp's socket against Close, for Stats
	closed bool
	final  LiveStats
}

// OpenLive opens a live capture on cfg.Interface: an AF_PACKET socket with a
// TPACKET_V3 memory-mapped receive ring of cfg.RingMB MiB (pure Go, through
// gopacket/afpacket), with cfg.Filter attached as a classic BPF program and
// cfg.Snaplen applied, promiscuous mode on unless cfg.NoPromisc, in the
// fanout group cfg.FanoutGroup if set. It needs CAP_NET_RAW (and
// CAP_NET_ADMIN for fanout and promiscuous mode). The socket only ever
// receives: nothing in spanrec writes to it.
//
// The Source's ReadFrame returns frames in the order the kernel queued them,
// timestamped by the kernel. Frame.Data points into the ring and is valid
// until the next ReadFrame call. When no frame comes within
// cfg.PollTimeout, ReadFrame returns ErrTimeout, so that the goroutine that
// owns the source can notice a shutdown; after Close it returns ErrClosed.
// Close must not run while ReadFrame runs or while the last frame's Data is
// in use: the reader goroutine closes its own source.
//
// The Source also has a method Stats() LiveStats, safe to call from any
// goroutine at any time (after Close it returns the final counts), and a
// method Interface() string.
func OpenLive(cfg LiveConfig) (Source, error) {
	cfg.defaults()
	if cfg.Interface == "" {
		return nil, errors.New("capture: live capture needs an interface name")
	}
	prog, err := cfg.Filter.Assemble(cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	blocks := max(cfg.RingMB*(1<<20)/liveBlockSize, 2)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptBlockSize(liveBlockSize),
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(liveBlockTimeout),
		afpacket.OptPollTimeout(cfg.PollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("capture: open %s: %w", cfg.Interface, err)
	}
	s := &liveSource{cfg: cfg, tp: tp, link: linkTypeOf(cfg.Interface)}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: %s: attach filter: %w", cfg.Interface, err)
	}
	if cfg.FanoutGroup != 0 {
		if err := tp.SetFanout(afpacket.FanoutHash|afpacket.FanoutHashWithDefrag, cfg.FanoutGroup); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: %s: join fanout group %d: %w", cfg.Interface, cfg.FanoutGroup, err)
		}
	}
	if !cfg.NoPromisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: %s: promiscuous mode: %w", cfg.Interface, err)
		}
	}
	// The kernel counted the frames queued between bind and filter: start
	// its counters from here. (Those frames are still read; the pipeline
	// takes any frame.)
	if _, _, err := tp.SocketStats(); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: %s: socket statistics: %w", cfg.Interface, err)
	}
	if err := tp.InitSocketStats(); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: %s: socket statistics: %w", cfg.Interface, err)
	}
	return s, nil
}

func (s *liveSource) ReadFrame() (Frame, error) {
	if s.closed {
		return Frame{}, ErrClosed
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return Frame{}, ErrTimeout
		}
		return Frame{}, fmt.Errorf("capture: read %s: %w", s.cfg.Interface, err)
	}
	s.packets.Add(1)
	s.bytes.Add(uint64(len(data)))
	return Frame{Data: data, Time: ci.Timestamp.UTC(), Link: s.link, Orig: ci.Length}, nil
}

// Interface returns the name of the interface the source reads.
func (s *liveSource) Interface() string { return s.cfg.Interface }

// Stats returns the counters so far. It is safe for concurrent use.
func (s *liveSource) Stats() LiveStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.final
	}
	return s.statsLocked()
}

func (s *liveSource) statsLocked() LiveStats {
	st := LiveStats{Interface: s.cfg.Interface, Packets: s.packets.Load(), Bytes: s.bytes.Load()}
	// SocketStats reads and clears the kernel's counters and keeps the
	// running totals.
	if _, v3, err := s.tp.SocketStats(); err == nil {
		st.KernelPackets = uint64(v3.Packets())
		st.KernelDrops = uint64(v3.Drops())
		st.QueueFreezes = uint64(v3.QueueFreezes())
	}
	return st
}

// Close closes the socket; the kernel leaves promiscuous mode and the
// fanout group with it.
func (s *liveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.final = s.statsLocked()
	s.closed = true
	s.tp.Close()
	return nil
}
