package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/spanrec/spanrec/lab/netns"
)

// Replay writes the Ethernet frames of the classic pcap capture onto the
// eth0 of host h, through a raw AF_PACKET socket opened inside h's
// namespace, at about rate frames per second (the capture's own times are
// ignored: live, the kernel stamps each copy). It returns the frames sent.
//
// Each frame's destination MAC is set to its source MAC: the bridge learns
// that address on h's port and does not forward a frame back out of the
// port it came in by, so the frames reach no other host, while the mirror
// (MirrorSent on h's port, tc's ingress hook, before the bridge) copies
// every one to the recorder. Nothing else is rewritten; the frames never
// leave the lab's switch.
func (l *Lab) Replay(h *Host, capture []byte, rate int) (int, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(capture))
	if err != nil {
		return 0, fmt.Errorf("lab: replay: %w", err)
	}
	if r.LinkType() != 1 {
		return 0, fmt.Errorf("lab: replay: link type %d, want Ethernet", r.LinkType())
	}
	var fd int
	var serr error
	// Protocol 0: the socket only sends, it receives nothing.
	if err := netns.Do(h.NS, func() {
		fd, serr = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if serr != nil {
			return
		}
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			unix.Close(fd)
			serr = err
			return
		}
		serr = unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index})
		if serr != nil {
			unix.Close(fd)
		}
	}); err != nil {
		return 0, fmt.Errorf("lab: replay: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("lab: replay: raw socket on eth0 in %s: %w", h.NS, serr)
	}
	defer unix.Close(fd)
	const batch = 50
	gap := time.Duration(float64(batch) / float64(rate) * float64(time.Second))
	next := time.Now()
	n := 0
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("lab: replay: read frame %d: %w", n+1, err)
		}
		if len(data) < 14 {
			continue
		}
		copy(data[0:6], data[6:12])
		for {
			_, err = unix.Write(fd, data)
			if !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EAGAIN) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err != nil {
			return n, fmt.Errorf("lab: replay: send frame %d (%d bytes): %w", n+1, len(data), err)
		}
		n++
		if n%batch == 0 {
			next = next.Add(gap)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}
}

// PeakRSS returns the peak resident set (VmHWM of /proc/PID/status) of a
// running process, in bytes.
func (p *Proc) PeakRSS() (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("lab: %s: %w", p.Name, err)
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		var kb uint64
		if _, err := fmt.Sscanf(string(bytes.TrimSpace(rest)), "%d kB", &kb); err != nil {
			return 0, fmt.Errorf("lab: %s: VmHWM %q: %w", p.Name, bytes.TrimSpace(rest), err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("lab: %s: no VmHWM in its status", p.Name)
}
