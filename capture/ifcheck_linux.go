package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// CheckReceiveOnly looks at interface iface for the settings that make a
// host transmit on a mirror port: an IP address (the host answers ARP or
// neighbour discovery, and may route), ARP on, IPv6 on (router
// solicitations, duplicate address detection, SLAAC). A mirror port must
// only receive: a switch may drop what it sends, or forward it into the
// monitored network. Each Warning carries the commands that fix it. The
// interface being down is reported too. It reads the kernel's state in the
// network namespace of the calling thread.
func CheckReceiveOnly(iface string) ([]Warning, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("capture: interface %s: %w", iface, err)
	}
	flags, err := ifFlags(iface)
	if err != nil {
		return nil, err
	}
	var ws []Warning
	if flags&unix.IFF_UP == 0 {
		ws = append(ws, Warning{Interface: iface, Problem: "the interface is down: nothing will be captured",
			Fix: []string{"ip link set dev " + iface + " up"}})
	}
	if addrs, err := ifc.Addrs(); err == nil && len(addrs) > 0 {
		var list []string
		for _, a := range addrs {
			list = append(list, a.String())
		}
		ws = append(ws, Warning{Interface: iface,
			Problem: "the interface has IP addresses (" + strings.Join(list, ", ") + "): the host may answer ARP or neighbour discovery and send on the mirror port",
			Fix:     []string{"ip addr flush dev " + iface}})
	}
	if flags&unix.IFF_NOARP == 0 {
		ws = append(ws, Warning{Interface: iface, Problem: "ARP is on: the host may send ARP on the mirror port",
			Fix: []string{"ip link set dev " + iface + " arp off"}})
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6"); err == nil && strings.TrimSpace(string(b)) == "0" {
		what := "IPv6 is on"
		var on []string
		for _, k := range []string{"autoconf", "accept_ra"} {
			if v, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + iface + "/" + k); err == nil && strings.TrimSpace(string(v)) != "0" {
				on = append(on, k)
			}
		}
		if len(on) > 0 {
			what += " (" + strings.Join(on, ", ") + " on)"
		}
		ws = append(ws, Warning{Interface: iface,
			Problem: what + ": the host sends router solicitations and duplicate address detection on the mirror port",
			Fix:     []string{"sysctl -w net.ipv6.conf." + iface + ".disable_ipv6=1"}})
	}
	return ws, nil
}

// ifFlags returns the IFF_* flags of iface (SIOCGIFFLAGS).
func ifFlags(iface string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("capture: interface flags: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, fmt.Errorf("capture: interface %s: %w", iface, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return 0, fmt.Errorf("capture: interface %s flags: %w", iface, err)
	}
	return ifr.Uint16(), nil
}

// Promiscuous reports whether iface is in promiscuous mode: whether any
// socket or user asks for it (the kernel's promiscuity count, as
// "ip -d link" shows it; SIOCGIFFLAGS only shows the user's request).
func Promiscuous(iface string) (bool, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return false, fmt.Errorf("capture: interface %s: %w", iface, err)
	}
	rib, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return false, fmt.Errorf("capture: list links: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return false, fmt.Errorf("capture: list links: %w", err)
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		if idx := int32(binary.NativeEndian.Uint32(m.Data[4:8])); int(idx) != ifc.Index {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return false, fmt.Errorf("capture: link %s: %w", iface, err)
		}
		for _, a := range attrs {
			if a.Attr.Type == unix.IFLA_PROMISCUITY && len(a.Value) >= 4 {
				return binary.NativeEndian.Uint32(a.Value) > 0, nil
			}
		}
	}
	return false, fmt.Errorf("capture: link %s: no promiscuity in the kernel's answer", iface)
}

// linkTypeOf returns the LINKTYPE of an interface from its ARPHRD type:
// Ethernet, unless the interface carries bare IP packets (tun, WireGuard,
// GRE devices).
func linkTypeOf(iface string) uint32 {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 1
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 1
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 1
	}
	// The first field of the answer is the hardware address's sa_family:
	// the ARPHRD type.
	switch ifr.Uint16() {
	case unix.ARPHRD_NONE, unix.ARPHRD_IPGRE:
		return 101
	default:
		return 1
	}
}
