// Package retention deletes recorded calls, with their files, when the
// operator's rules say they are old enough or the archive is too large,
// and guards the data directory's file system: below a minimum of free
// space it deletes the oldest recordings, and when nothing more may be
// deleted it tells the call assemblers to keep no audio for new calls
// (limits.Disk). It is one more loop owned by the command that runs it
// (record, serve, import), over the call index and the data directory.
//
// # Deleting a call
//
// Every deletion, by a rule, the disk guard or a user, goes through a
// Deleter: it records the intent in the index (BeginDeletion), removes the
// call's files, then deletes the index row together with the intent and
// the audit entry (FinishDeletion). A crash in between leaves the intent,
// which Deleter.Recover carries out at the next start; so the index never
// lists a call whose files are gone, nor are files left that no entry
// names. A call under legal hold (spanrec.LegalHold) is never deleted: the
// index refuses the intent.
//
// # Rules
//
// A call's age is measured from its start to the wall clock (retention is
// an operator's policy, not protocol time). Each call is judged by the
// first rule that matches it (direction, number pattern); a call no rule
// matches is kept for ever. Independently, MaxTotalBytes deletes the
// oldest calls until the recordings fit.
package retention
