package doctor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// InspectLink reads what the system says about the capture interface name:
// its speed and state (/sys/class/net/NAME), and the ways it is not a
// receive-only mirror port (an IP address, ARP on, IPv6 on). The kernel
// counters are left for the caller to fill from the live capture.
func InspectLink(name string) (Link, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return Link{Name: name}, fmt.Errorf("doctor: interface %s: %w", name, err)
	}
	var addrs []string
	if as, err := ifc.Addrs(); err == nil {
		for _, a := range as {
			addrs = append(addrs, a.String())
		}
	}
	return inspectLink("/", name, ifc.Flags, addrs), nil
}

// ifaceNoARP is IFF_NOARP of <linux/if.h>; net.Flags does not carry it.
const ifaceNoARP = 0x80

// inspectLink builds the Link of interface name from the files under root
// (sys/class/net/NAME/{speed,operstate,flags},
// proc/sys/net/ipv6/conf/NAME/disable_ipv6) and the interface's flags and
// addresses. Files that cannot be read leave their facts unknown.
func inspectLink(root, name string, flags net.Flags, addrs []string) Link {
	l := Link{Name: name, Up: flags&net.FlagUp != 0}
	read := func(parts ...string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(append([]string{root}, parts...)...))
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	// speed is in Mbit/s; -1 or EINVAL when unknown (link down, virtual).
	if s, ok := read("sys", "class", "net", name, "speed"); ok {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			l.SpeedMbit = v
		}
	}
	if s, ok := read("sys", "class", "net", name, "operstate"); ok && l.Up {
		// "unknown" is what drivers without carrier reporting say (veth
		// in some states, tun): not a reason to call the link down.
		l.Up = s != "down" && s != "lowerlayerdown" && s != "notpresent"
	}
	if len(addrs) > 0 {
		l.Problems = append(l.Problems, Problem{
			Message: fmt.Sprintf("it has the address %s, so this host may send from the mirror port", strings.Join(addrs, ", ")),
			Fix:     fmt.Sprintf("ip addr flush dev %s (and keep it out of the network configuration)", name),
		})
	}
	if s, ok := read("sys", "class", "net", name, "flags"); ok {
		if v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32); err == nil && v&ifaceNoARP == 0 {
			l.Problems = append(l.Problems, Problem{
				Message: "ARP is on, so the host answers ARP for frames the mirror copies to it",
				Fix:     fmt.Sprintf("ip link set dev %s arp off", name),
			})
		}
	}
	if s, ok := read("proc", "sys", "net", "ipv6", "conf", name, "disable_ipv6"); ok && s == "0" {
		l.Problems = append(l.Problems, Problem{
			Message: "IPv6 is on, so the host sends router solicitations and neighbour discovery from it",
			Fix:     fmt.Sprintf("sysctl -w net.ipv6.conf.%s.disable_ipv6=1", name),
		})
	}
	return l
}
