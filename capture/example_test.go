package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spanrec/spanrec/capture"
)

func Example() {
	// Write a two-frame pcapng capture, then read it back.
	var file bytes.Buffer
	w := capture.NewWriter(&file)
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	w.WriteFrame([]byte{0x45, 0, 0, 20}, 101, ts, 0)                     // raw IPv4
	w.WriteFrame(make([]byte, 14), 1, ts.Add(20*time.Millisecond), 1514) // Ethernet, snapped
	if err := w.Flush(); err != nil {
		panic(err)
	}

	src, err := capture.NewReader(&file)
	if err != nil {
		panic(err)
	}
	defer src.Close()
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(f.Time.Format(time.StampMilli), "link", f.Link, "iface", f.Iface, len(f.Data), "of", f.Orig, "bytes")
	}
	if st, ok := src.(interface{ Stats() capture.FileStats }); ok {
		fmt.Printf("%+v\n", st.Stats())
	}
	// Output:
	// May  1 12:00:00.000 link 101 iface 0 4 of 4 bytes
	// May  1 12:00:00.020 link 1 iface 1 14 of 1514 bytes
	// {Frames:2 Bytes:18 Truncated:false}
}
