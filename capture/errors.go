package capture

import "fmt"

// formatError reports input that is neither pcap nor pcapng (nor a gzip of
// either).
type formatError struct {
	name string
	head []byte // the first bytes of the (decompressed) input
	gzip bool
}

func (e *formatError) Error() string {
	if e.gzip {
		return fmt.Sprintf("%s is gzip-compressed but not a pcap or pcapng file (decompressed starts with 0x%x)", e.name, e.head)
	}
	return fmt.Sprintf("%s is not a pcap or pcapng file (starts with 0x%x)", e.name, e.head)
}

// corruptError reports a record or block whose lengths or fields cannot be
// right. Offset counts bytes of the decompressed stream from its start.
type corruptError struct {
	name   string
	offset int64
	msg    string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("%s: corrupt record at offset %d: %s", e.name, e.offset, e.msg)
}
