package api_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/sqlite"
)

// TestBrowserEncrypted opens the page of an encrypted call with no key
// (wireshark's marseillaise-srtp.pcap, SRTP without SIP): no Play button,
// the stream marked "SRTP, not decrypted", the note telling to supply the
// keys.
func TestBrowserEncrypted(t *testing.T) {
	needChromium(t)
	path := filepath.Join(capturesDir(), "wireshark-samples", "marseillaise-srtp.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no capture: %v", err)
	}
	f := newFixture(t, false, func(c *api.Config) {
		// The demo is in the index already: add the encrypted call.
		importInto(t, c.Index.(*sqlite.DB), c.DataDir, path)
	})
	enc := f.callWith(t, func(c *spanrec.Call) bool {
		return len(c.Streams) == 1 && c.Streams[0].Encryption == spanrec.SRTP
	})
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.waitFor(t, "the login page", `!!document.getElementById('login-user')`)
	b.login(t, "ada", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	// The list flags it encrypted, in words too, and not as a recording.
	flags := eval[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('#calls tr[data-id="%s"] [data-flag]')].map((e) => e.getAttribute('aria-label')).join(' | ')`, enc.ID))
	if !strings.HasPrefix(flags, "Encrypted media (SRTP): not decrypted | Notes: ") || strings.Contains(flags, "Recording") {
		t.Errorf("the encrypted call's flags: %q", flags)
	}
	b.open(t, "open the encrypted call", fmt.Sprintf("%s/#/calls/%s", f.srv.URL, enc.ID))
	b.waitFor(t, "the call page", `!!document.getElementById('call-title') && !!document.getElementById('streams')`)
	if eval[bool](t, b, `!!document.getElementById('play')`) {
		t.Error("a Play button over a call without audio")
	}
	if !eval[bool](t, b, `!!document.getElementById('no-audio')`) {
		t.Error("no 'No audio was recorded' note")
	}
	row := eval[string](t, b, `document.querySelector('#streams tbody tr').innerText`)
	if !strings.Contains(row, "SRTP, not decrypted") {
		t.Errorf("stream row %q, want it marked SRTP, not decrypted", row)
	}
	if page := eval[string](t, b, `document.body.innerText`); !strings.Contains(page, "--keys") {
		t.Error("the page does not tell to supply keys")
	}
	b.screenshot(t, "call-encrypted.png")
	b.check(t)
}
