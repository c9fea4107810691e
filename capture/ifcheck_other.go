//go:build !linux

package capture

import "errors"

var errNoLinux = errors.New("capture: interface checks need Linux")

// CheckReceiveOnly needs Linux; elsewhere it returns an error.
func CheckReceiveOnly(iface string) ([]Warning, error) { return nil, errNoLinux }

// Promiscuous needs Linux; elsewhere it returns an error.
func Promiscuous(iface string) (bool, error) { return false, errNoLinux }
