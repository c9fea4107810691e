// Command spangen writes synthetic SIP+RTP captures made by package
// pcaptest: a small varied demo for the README and tests, or many
// concurrent calls for benchmarks.
//
// Usage:
//
//	spangen -o out.pcap [-scenario demo|bench] [-calls N] [-concurrent] [-seed S] [-spread D] [-talk D]
//
// The demo scenario is pcaptest.Demo: seven calls between phones on
// 10.0.0.0/8 and SIP trunks on documentation addresses, with early media,
// DTMF, G.722, hold, NAT, busy, cancelled and unanswered calls. The bench
// scenario is pcaptest.Concurrent(N, spread, talk); -concurrent selects it.
// The output depends only on the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "spangen:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("spangen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output pcap file (required)")
	scenario := fs.String("scenario", "demo", "demo: a few varied calls; bench: -calls concurrent calls")
	calls := fs.Int("calls", 100, "number of calls of the bench scenario")
	concurrent := fs.Bool("concurrent", false, "same as -scenario bench")
	seed := fs.Int64("seed", 1, "random seed: tags, SSRCs, sequence numbers, lost packets")
	spread := fs.Duration("spread", 10*time.Second, "bench: calls start within this time")
	talk := fs.Duration("talk", 60*time.Second, "bench: talk time of each call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("need -o and no arguments")
	}
	if *concurrent {
		*scenario = "bench"
	}
	o := pcaptest.Options{Seed: *seed}
	switch *scenario {
	case "demo":
		o.Calls = pcaptest.Demo()
	case "bench":
		if *calls < 1 {
			return fmt.Errorf("-calls %d: need at least one call", *calls)
		}
		o.Calls = pcaptest.Concurrent(*calls, *spread, *talk)
	default:
		return fmt.Errorf("unknown scenario %q (demo or bench)", *scenario)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := pcaptest.Write(f, o); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	return f.Close()
}
