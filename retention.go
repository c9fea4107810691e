package spanrec

import "time"

// LegalHold marks a call that must be kept whatever the retention rules and
// the disk guard say: no rule deletes it, and the API and CLI refuse to
// delete it until it is released.
type LegalHold struct {
	By     string    // the user who set it
	At     time.Time // when
	Reason string    // free text, may be empty
}

// Deletion is the intent to delete one call: written to the index before
// the call's files are removed, and cleared with the call's index row (and
// the audit entry that records it) in one transaction once they are gone.
// An intent still pending at the next start is carried out then, so a
// crash never leaves an index row without its files nor files without
// their row.
type Deletion struct {
	Call CallID
	At   time.Time // when the deletion was decided
	// By is who deleted the call: a user's name, or "retention" (an age or
	// size rule) or "disk-guard" (the data directory's file system ran
	// low).
	By string
	// Remote is the client address of a deletion asked through the API.
	Remote string
	// Reason says why, in words: the rule, the free space, or "deleted by
	// an admin".
	Reason string
	// Files are the call's files, relative to the data directory.
	Files []string
}

// SensorDeletion is a call deleted on a sensor that ships to a central
// index, as the sensor tells the central index (package ship): the
// central copy stays (the archive's own retention, holds and admins decide
// its fate), but it says what happened, and loses the names of files that
// were only on the sensor.
type SensorDeletion struct {
	// Deletion is the sensor's: Call, At, By, Remote, Reason (Files
	// unused).
	Deletion
	Sensor string // the call's sensor (spanrec.Call.Sensor)
	// The call's files as the sensor's index named them, with their
	// SHA-256.
	Audio, AudioSHA256, PCAP, PCAPSHA256 string
	// Queued: the call waited in the sensor's outbox when it was deleted
	// (the central side may not have it, or not as it was last).
	Queued bool
	// Shipped is where the sensor's last shipping of the call sent its
	// files: ShippedToStore, ShippedRow (no store: the central row names
	// the sensor's own files), or "" (not known: never shipped, or
	// shipped by a sensor that did not record it yet).
	Shipped string
	// FilesGone: the central row names the sensor's own copies of these
	// files (shipped without a store), gone now. The Shipper sets it from
	// Shipped (or, when that is not known, from whether it has a store).
	FilesGone bool
}

// SensorDeletion.Shipped values.
const (
	ShippedToStore = "store"
	ShippedRow     = "row"
)
