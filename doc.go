// Package spanrec holds the domain vocabulary of the spanrec call recorder:
// calls, parties, media streams, DTMF digits, the call index and blob store
// interfaces, and the error kinds shared by every other package.
//
// It imports only the standard library. The pipeline stages (packet, sipmsg,
// dialog, rtpstream, call, codec, audio, render) produce and consume these
// types; the adapters (sqlite, file, api) store and serve them.
package spanrec
