package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/keys"
)

// KeyStore takes keys given to a running recorder; *keys.Store is one.
type KeyStore interface {
	Add(*keys.Set)
	Len() (tls, sdes int)
}

type keysRequest struct {
	// KeyLog holds key file lines: NSS key log lines (SSLKEYLOGFILE) and
	// SDES lines, as in the --keys file.
	KeyLog string `json:"key_log"`
}

type keysResponse struct {
	TLSConnections int `json:"tls_connections"` // connections the lines gave secrets for
	SDES           int `json:"sdes"`            // SDES keys the lines gave
	Unknown        int `json:"unknown_labels"`  // key log lines with a label not used
	// Held are the totals the recorder holds now.
	HeldTLS  int `json:"held_tls_connections"`
	HeldSDES int `json:"held_sdes"`
}

// addKeys adds key lines to the running recorder (admins). The keys are
// never echoed or logged; the audit trail records how many were added.
func (s *Server) addKeys(w http.ResponseWriter, r *http.Request, p *principal) error {
	if s.cfg.Keys == nil {
		return spanrec.Errorf(spanrec.ENOTFOUND, "keys can be given only to a running recorder (spanrec record --listen)")
	}
	var req keysRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	set, err := keys.Load(strings.NewReader(req.KeyLog))
	if err != nil {
		// A keys.LineError names the line and the problem, never the key.
		return invalid("%v", err)
	}
	res := keysResponse{TLSConnections: set.TLS.Len(), SDES: len(set.SDES), Unknown: set.TLS.Unknown}
	if res.TLSConnections+res.SDES == 0 {
		return invalid("no key lines in key_log")
	}
	detail := strconv.Itoa(res.TLSConnections) + " TLS connections, " + strconv.Itoa(res.SDES) + " SDES keys"
	if err := s.auditStrict(r, p.user.Name, auth.ActionKeysAdd, "", detail); err != nil {
		return err
	}
	s.cfg.Keys.Add(set)
	res.HeldTLS, res.HeldSDES = s.cfg.Keys.Len()
	s.log.Info("api: keys added", "user", p.user.Name, "tls_connections", res.TLSConnections, "sdes", res.SDES)
	writeJSON(w, http.StatusOK, res)
	return nil
}
