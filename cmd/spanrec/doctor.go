package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/doctor"
)

// cmdDoctor listens on a mirror port for a while (or reads a capture file)
// and says whether it is fit to record from: exit status 0 when it is, 1
// when it is not, 2 for command-line mistakes.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	var c common
	c.register(fs)
	iface := fs.String("i", "", "interface to listen on (the mirror port)")
	fs.StringVar(iface, "interface", "", "same as -i")
	dur := fs.Duration("for", 30*time.Second, "how long to listen")
	file := fs.String("file", "", "analyse this capture file instead of an interface")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if *file == "" && len(pos) == 1 {
		*file = pos[0]
		pos = nil
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: doctor takes -i IF or one capture file", errUsage)
	case (*iface == "") == (*file == ""):
		return fmt.Errorf("%w: doctor needs either -i IF (listen on a mirror port) or a capture file", errUsage)
	case *dur <= 0:
		return fmt.Errorf("%w: --for must be positive", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	a := doctor.New(doctor.Config{Packet: e.cfg.packetConfig()})

	var r doctor.Report
	if *file != "" {
		src, err := capture.OpenFile(*file)
		if err != nil {
			return err
		}
		err = feed(ctx, a, src, time.Time{})
		src.Close()
		if err != nil {
			return err
		}
		r = a.Report(*file, nil)
	} else {
		link, err := doctor.InspectLink(*iface)
		if err != nil {
			return err
		}
		ws, err := capture.CheckReceiveOnly(*iface)
		if err != nil {
			return err
		}
		for _, w := range ws {
			// A down link is its own finding (doctor.CodeLinkDown).
			if !link.Up && len(w.Fix) == 1 && strings.HasSuffix(w.Fix[0], " up") {
				continue
			}
			link.Problems = append(link.Problems, doctor.Problem{Message: w.Problem, Fix: strings.Join(w.Fix, " && ")})
		}
		src, err := capture.OpenLive(capture.LiveConfig{Interface: *iface})
		if err != nil {
			return fmt.Errorf("listen on %s: %w", *iface, privilegeHint(err))
		}
		if !*asJSON {
			fmt.Fprintf(stderr, "listening on %s for %s (make a call meanwhile) …\n", *iface, *dur)
		}
		err = feed(ctx, a, src, time.Now().Add(*dur))
		if st, ok := src.(interface{ Stats() capture.LiveStats }); ok {
			s := st.Stats()
			link.KernelStats = true
			link.KernelPackets = s.KernelPackets - min(s.KernelDrops, s.KernelPackets)
			link.KernelDrops = s.KernelDrops
		}
		src.Close()
		if err != nil {
			return err
		}
		r = a.Report(*iface, &link)
	}
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !r.Fit {
		return fmt.Errorf("%s is not fit to record from", r.Source)
	}
	return nil
}

// feed hands every frame of src to a until the source ends, ctx is done
// (an interrupted doctor still reports what it saw) or, for a live source,
// the deadline passes.
func feed(ctx context.Context, a *doctor.Analyzer, src capture.Source, deadline time.Time) error {
	for n := 0; ; n++ {
		if n&255 == 0 && (ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline))) {
			return nil
		}
		f, err := src.ReadFrame()
		switch {
		case err == nil:
			a.HandleFrame(f)
		case errors.Is(err, capture.ErrTimeout):
			n = -1 // check the clock now
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}
