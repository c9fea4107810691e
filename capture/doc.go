// Package capture owns the frame sources at the head of the spanrec pipeline:
// it reads link-layer frames from pcap and pcapng capture files (optionally
// gzip-compressed, or from standard input) and hands them, in capture order,
// to the reader goroutine that feeds packet.Decoder. It also writes the
// per-call pcapng files that sit beside each recording.
//
// # Reading
//
// [OpenFile] and [NewReader] return a [Source]. Each [Frame] carries the
// LINKTYPE_* number of the interface it was captured on, so a pcapng file that
// mixes Ethernet, Linux cooked and raw IP interfaces decodes frame by frame.
// Frame.Data points into the source's read buffer and is valid until the next
// ReadFrame call; reading allocates nothing per frame.
//
// The returned Source also implements [Progress] (bytes of the file consumed,
// for a progress bar) and has a Stats method returning [FileStats]; discover
// both by type assertion:
//
//	if st, ok := src.(interface{ Stats() capture.FileStats }); ok && st.Stats().Truncated { … }
//
// A file cut in the middle of a record, as tcpdump leaves it when killed, ends
// with io.EOF after the last whole record and reports FileStats.Truncated. A
// record whose lengths cannot be right stops the source with an error that
// names the file and the record's offset.
//
// # Writing
//
// [Writer] appends frames to a pcapng stream with one interface per link
// type, through a small buffer, so thousands of per-call files can be open at
// once.
package capture
