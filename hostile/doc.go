// Package hostile holds no code: its tests run the spanrec binary, built
// from this tree, on captures made by pcaptest's hostile generators (a bad
// capture time, a flood of SIP over TCP, a flood of unanswered INVITEs,
// giant SIP messages) and check that every import ends well, within a
// memory bound read from the process (peak RSS), with every limit it hit
// counted in its summary. See docs/SECURITY.md.
package hostile
