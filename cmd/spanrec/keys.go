package main

import (
	"flag"
	"fmt"
	"log/slog"

	"github.com/spanrec/spanrec/keys"
)

// keysFlag registers --keys, the operator's key file (NSS key log lines
// for SIP over TLS, SDES lines for SRTP).
func keysFlag(fs *flag.FlagSet) {
	fs.String("keys", "", "key file: NSS key log (SSLKEYLOGFILE) lines to decrypt SIP over TLS, SDES lines for SRTP (default: config keys.file)")
}

// keysPath returns the key file: fs's --keys if given, else the
// configuration's keys.file.
func (fc *fileConfig) keysPath(fs *flag.FlagSet) string {
	if f := fs.Lookup("keys"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	return fc.Keys.File
}

// loadKeys reads the key file at path ("" for none) into a new Store, nil
// when there is no file. The log says how many keys it holds, never what.
func loadKeys(path string, log *slog.Logger) (*keys.Store, error) {
	if path == "" {
		return nil, nil
	}
	s, err := keys.LoadFileLog(path, log)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	logKeys(log, path, s)
	return keys.NewStore(s), nil
}

func logKeys(log *slog.Logger, path string, s *keys.Set) {
	log.Info("keys loaded", "file", path, "tls_connections", s.TLS.Len(), "sdes", len(s.SDES), "unknown_key_log_labels", s.TLS.Unknown)
}

// reloadKeys reads the key file again into st (SIGHUP); on error st keeps
// its keys.
func reloadKeys(path string, st *keys.Store, log *slog.Logger) {
	if path == "" || st == nil {
		return
	}
	s, err := keys.LoadFileLog(path, log)
	if err != nil {
		log.Error("reload key file: keeping the old keys", "err", err)
		return
	}
	st.Replace(s)
	logKeys(log, path, s)
}
