package rtpstream_test

import (
	"fmt"
	"time"

	"github.com/spanrec/spanrec/rtpstream"
)

func ExampleStats() {
	var s rtpstream.Stats
	s.Codec = "PCMA"
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 50 {
		if i == 20 {
			continue // lost
		}
		pkt := rtpPacket(0x80, 8, uint16(i), uint32(i)*160, 0x1234, make([]byte, 160)...)
		h, _, err := rtpstream.Parse(pkt)
		if err != nil {
			panic(err)
		}
		s.Update(h, start.Add(time.Duration(i)*20*time.Millisecond), 8000)
	}
	sn := s.Snapshot()
	fmt.Printf("packets %d, expected %d, lost %d, max delta %.0f ms, MOS %.2f\n",
		sn.Packets, sn.Expected, sn.Lost, sn.MaxDeltaMS, sn.MOS)
	// Output: packets 49, expected 50, lost 1, max delta 40 ms, MOS 4.23
}

func ExampleEvents() {
	var e rtpstream.Events
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	// Key 7: a start packet (marker), then three end packets of 800 units.
	payloads := [][]byte{{7, 10, 0, 160}, {7, 0x80 | 10, 3, 32}, {7, 0x80 | 10, 3, 32}, {7, 0x80 | 10, 3, 32}}
	for i, p := range payloads {
		h := rtpstream.Header{Version: 2, PayloadType: 101, Seq: uint16(i), Timestamp: 4000, Marker: i == 0}
		if d, ok := e.Update(h, p, start.Add(time.Duration(i)*20*time.Millisecond), 8000); ok {
			fmt.Println("key down:", d.Digit)
		}
	}
	for _, d := range e.Digits() {
		fmt.Printf("%s for %v (ended %v)\n", d.Digit, d.Duration, d.Ended)
	}
	// Output:
	// key down: 7
	// 7 for 100ms (ended true)
}
