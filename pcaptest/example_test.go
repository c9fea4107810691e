package pcaptest_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

func Example() {
	o := pcaptest.Options{Seed: 1, Calls: []pcaptest.Call{
		{Talk: 2 * time.Second, DTMF: "42"},
		{Start: 500 * time.Millisecond, Outcome: pcaptest.Busy},
	}}
	var capture bytes.Buffer
	if err := pcaptest.Write(&capture, o); err != nil {
		panic(err)
	}
	exp, err := pcaptest.Expected(o)
	if err != nil {
		panic(err)
	}
	for _, e := range exp {
		c := e.Call
		fmt.Printf("%s → %s: %s %d, talk %v, %d streams", c.Caller.Number, c.Callee.Number, c.Status, c.StatusCode, c.Duration, len(c.Streams))
		for _, s := range c.Streams {
			fmt.Printf(", %s %d packets", s.Side, s.Packets)
		}
		for _, d := range c.DTMF {
			fmt.Printf(", digit %s", d.Digit)
		}
		fmt.Println()
	}
	// Output:
	// 1000 → 2000: answered 200, talk 2s, 2 streams, caller 100 packets, callee 100 packets, digit 4, digit 2
	// 1001 → 2001: busy 486, talk 0s, 0 streams
}
