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
// whether it is up, and its speed (/sys/class/net/NAME). The receive-only
// problems (capture.CheckReceiveOnly) and the kernel counters of the live
// capture are for the caller to fill in.
func InspectLink(name string) (Link, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return Link{Name: name}, fmt.Errorf("doctor: interface %s: %w", name, err)
	}
	return inspectLink("/", name, ifc.Flags), nil
}

// inspectLink builds the Link of interface name from its flags and the
// files root/sys/class/net/NAME/{speed,operstate}. Files that cannot be
// read leave their facts unknown.
func inspectLink(root, name string, flags net.Flags) Link {
	l := Link{Name: name, Up: flags&net.FlagUp != 0}
	read := func(file string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(root, "sys", "class", "net", name, file))
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	}
	// speed is in Mbit/s; -1 or EINVAL when unknown (link down, virtual).
	if s, ok := read("speed"); ok {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			l.SpeedMbit = v
		}
	}
	if s, ok := read("operstate"); ok && l.Up {
		// "unknown" is what drivers without carrier reporting say (tun,
		// some virtual devices): not a reason to call the link down.
		l.Up = s != "down" && s != "lowerlayerdown" && s != "notpresent"
	}
	return l
}
