package capture

import "strings"

// Warning is a setting of a capture interface that can make the host
// transmit on a mirror port, with the commands that fix it.
type Warning struct {
	Interface string
	Problem   string
	Fix       []string // shell commands, to run as root
}

func (w Warning) String() string {
	return w.Interface + ": " + w.Problem + "; fix: " + strings.Join(w.Fix, " && ")
}
