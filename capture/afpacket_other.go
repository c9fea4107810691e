//go:build !linux

package capture

import "errors"

// OpenLive needs Linux's AF_PACKET sockets; elsewhere it returns an error
// that says so. Capture with tcpdump on the mirror port and import the file
// instead.
func OpenLive(cfg LiveConfig) (Source, error) {
	return nil, errors.New("capture: live capture needs Linux (AF_PACKET); elsewhere capture with tcpdump and use 'spanrec import'")
}
