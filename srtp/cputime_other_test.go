//go:build !unix

package srtp_test

import "testing"

func startCPU(*testing.B)           {}
func reportCPU(b *testing.B, n int) {}
