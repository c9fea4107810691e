package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/sqlite"
)

// TestServeCentralArchive is the central archive end to end, with the
// real binary (the sensors' store keys in AWS_*, the server's in its
// configuration file), a real PostgreSQL and a real S3 store (SeaweedFS): two
// sensors, each with its own data directory, import different
// third-party captures (Wireshark samples) and ship them to the same
// index and store; a third process, `serve --index postgres://…
// --store s3://…` over a new, empty data directory, serves the union.
// Its API lists both sensors' calls (and each sensor's alone), and every
// call's audio, whole and in a range, its pcap and its SIP ladder come
// from the store with the bytes the sensors' local indexes recorded
// (SHA-256). An object deleted from the store is a 404 that says so; a
// call an admin deletes loses its objects in the store too; no secret
// shows in any output.
func TestServeCentralArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs PostgreSQL and SeaweedFS")
	}
	caps := filepath.Join(capturesDirForTest(t), "wireshark-samples")
	sensors := map[string][]string{
		"a": {"SIP_DTMF2.pcap", "sip-rtp-g722.pcap"},
		"b": {"sip-rtp-opus.pcap", "sip-rtp-l16.pcap", "nb6-telephone.pcap"},
	}
	for _, files := range sensors {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(caps, f)); err != nil {
				t.Skipf("third-party capture missing: %v", err)
			}
		}
	}
	s3srv := s3test.Start(t)
	pg := pgtest.NewSchema(t)
	store := s3srv.URL("archive")
	bin := buildSpanrec(t)
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3srv.SecretKey,
		"SPANREC_INDEX=", "SPANREC_STORE=", "SPANREC_DATA=", "SPANREC_CONFIG=")
	pgPassword := pg[strings.Index(pg, "://")+3:]
	pgPassword = pgPassword[strings.Index(pgPassword, ":")+1 : strings.Index(pgPassword, "@")]
	secrets := []string{s3srv.SecretKey, pgPassword}
	noSecret := func(what, out string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: a secret shows in the output:\n%s", what, out)
			}
		}
	}
	spanrecCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("spanrec %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		noSecret("spanrec "+args[0], string(out))
		return string(out)
	}

	// The sensors: import, then ship to the central side.
	local := map[spanrec.CallID]*spanrec.Call{} // every call, as its sensor's index has it
	dirOf := map[spanrec.CallID]string{}
	bySensor := map[string]int{}
	for name, files := range sensors {
		data := filepath.Join(t.TempDir(), "sensor-"+name)
		for _, f := range files {
			spanrecCmd("import", filepath.Join(caps, f), "--data", data, "--sensor", name, "--no-progress")
		}
		out := spanrecCmd("ship", "--data", data, "--index", pg, "--store", store)
		if !strings.Contains(out, "calls waiting    0") {
			t.Errorf("sensor %s: ship:\n%s", name, out)
		}
		db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.Sensor != name {
				t.Errorf("call %s of sensor %s has sensor %q", c.ID, name, c.Sensor)
			}
			if _, dup := local[c.ID]; dup {
				t.Fatalf("call %s imported by both sensors: the captures must differ", c.ID)
			}
			local[c.ID], dirOf[c.ID] = c, data
			bySensor[name]++
		}
	}
	withAudio := 0
	for _, c := range local {
		if c.Audio != "" {
			withAudio++
		}
	}
	if bySensor["a"] == 0 || bySensor["b"] == 0 || withAudio < 4 {
		t.Fatalf("calls by sensor %v, %d with audio: too few to test", bySensor, withAudio)
	}

	// The archive's server: an empty data directory, the central index
	// and store; the store and its keys from the configuration file
	// this time (no AWS_* variables).
	fresh := filepath.Join(t.TempDir(), "central")
	conf := filepath.Join(t.TempDir(), "spanrec.yaml")
	yaml := fmt.Sprintf("store: %q\nstore_credentials:\n  access_key: %q\n  secret_key: %q\n", store, s3srv.AccessKey, s3srv.SecretKey)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--data", fresh, "--index", pg, "--config", conf,
		"--listen", "127.0.0.1:0", "--first-admin", "admin", "--poll", "1s")
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, errb.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("serve did not stop on SIGTERM")
		}
		noSecret("serve", out.String()+errb.String())
		// Serving wrote no recording into the data directory.
		filepath.Walk(fresh, func(p string, info os.FileInfo, err error) error {
			if err == nil && (strings.HasSuffix(p, ".wav") || strings.HasSuffix(p, ".pcapng")) {
				t.Errorf("serve wrote %s", p)
			}
			return nil
		})
	}()
	re := regexp.MustCompile(`Serving .* on (http://[0-9.:]+)/`)
	var base string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && base == ""; time.Sleep(100 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s\n%s", err, out.String(), errb.String())
		default:
		}
	}
	if base == "" {
		t.Fatalf("serve printed no URL:\n%s\n%s", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "with the recordings of s3://") {
		t.Errorf("serve does not say it reads the store:\n%s", out.String())
	}
	pw := regexp.MustCompile(`user admin \(admin\), password (\S+)`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no first-admin password printed:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	get := func(path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return res, b
	}
	req, _ := http.NewRequest("POST", base+"/api/login", strings.NewReader(`{"user":"admin","password":"`+pw[1]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct{ CSRF string }
	err = json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("login: %s %v", res.Status, err)
	}

	// The list: both sensors' calls, and each sensor's alone.
	type listed struct {
		ID     spanrec.CallID `json:"id"`
		Sensor string         `json:"sensor"`
	}
	list := func(query string) map[spanrec.CallID]listed {
		t.Helper()
		res, body := get("/api/calls?limit=500" + query)
		var page struct {
			Calls []listed `json:"calls"`
			Total int      `json:"total"`
		}
		if err := json.Unmarshal(body, &page); res.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("list%s: %s %v", query, res.Status, err)
		}
		m := map[spanrec.CallID]listed{}
		for _, c := range page.Calls {
			m[c.ID] = c
		}
		if page.Total != len(m) {
			t.Errorf("list%s: total %d, %d calls", query, page.Total, len(m))
		}
		return m
	}
	all := list("")
	if len(all) != len(local) {
		t.Errorf("the archive lists %d calls, the sensors recorded %d", len(all), len(local))
	}
	for name, n := range bySensor {
		got := list("&sensor=" + name)
		if len(got) != n {
			t.Errorf("sensor=%s: %d calls, the sensor recorded %d", name, len(got), n)
		}
		for id, c := range got {
			if c.Sensor != name || local[id] == nil || local[id].Sensor != name {
				t.Errorf("sensor=%s lists call %s of sensor %q", name, id, c.Sensor)
			}
		}
	}

	// Every call's files, from the store, are the sensors' bytes.
	sum := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	var gone, deleted *spanrec.Call
	for id, lc := range local {
		if _, ok := all[id]; !ok {
			t.Errorf("call %s (sensor %s) not in the archive", id, lc.Sensor)
			continue
		}
		p := "/api/calls/" + string(id)
		res, body := get(p + "/pcap")
		if res.StatusCode != http.StatusOK || sum(body) != lc.PCAPSHA256 {
			t.Errorf("call %s: pcap: %s, %d bytes, SHA-256 %s, the sensor's index %s", id, res.Status, len(body), sum(body), lc.PCAPSHA256)
		}
		res, body = get(p + "/ladder")
		var msgs []api.LadderMessage
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &msgs) != nil || len(msgs) < 2 ||
			msgs[0].Method != "INVITE" || msgs[0].CallID != lc.SIPCallID {
			t.Errorf("call %s: ladder: %s, %d messages", id, res.Status, len(msgs))
		}
		if lc.Audio == "" {
			continue
		}
		res, body = get(p + "/audio")
		if res.StatusCode != http.StatusOK || sum(body) != lc.AudioSHA256 {
			t.Errorf("call %s: audio: %s, %d bytes, SHA-256 %s, the sensor's index %s", id, res.Status, len(body), sum(body), lc.AudioSHA256)
		}
		wav, err := os.ReadFile(filepath.Join(dirOf[id], lc.Audio))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := len(wav)/2, len(wav)/2+9999
		res, part := get(p+"/audio", "Range", fmt.Sprintf("bytes=%d-%d", lo, hi))
		if res.StatusCode != http.StatusPartialContent || !bytes.Equal(part, wav[lo:hi+1]) ||
			res.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", lo, hi, len(wav)) {
			t.Errorf("call %s: audio range: %s, %d bytes, Content-Range %q", id, res.Status, len(part), res.Header.Get("Content-Range"))
		}
		res, _ = get(p + "/waveform?points=200")
		if res.StatusCode != http.StatusOK {
			t.Errorf("call %s: waveform: %s", id, res.Status)
		}
		if gone == nil {
			gone = lc
		} else {
			deleted = lc
		}
	}

	// A recording deleted from the store behind the archive's back: a
	// 404 that says where it is missing, and the server goes on.
	cl := s3srv.Client(t)
	if err := cl.RemoveObject(context.Background(), s3srv.Bucket, "archive/"+gone.Audio, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	res, body := get("/api/calls/" + string(gone.ID) + "/audio")
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "missing from the store") {
		t.Errorf("audio deleted from the store: %s %s", res.Status, body)
	}
	if res, _ := get("/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("healthz after a missing object: %s", res.Status)
	}

	// An admin deletes a call from the archive: its row and its objects
	// go; the sensor keeps its own copy.
	req, _ = http.NewRequest("DELETE", base+"/api/calls/"+string(deleted.ID), nil)
	req.Header.Set("X-CSRF-Token", me.CSRF)
	req.Header.Set("Origin", base)
	if res, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s", res.Status)
	}
	for _, key := range []string{deleted.Audio, deleted.PCAP} {
		if _, err := cl.StatObject(context.Background(), s3srv.Bucket, "archive/"+key, minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
			t.Errorf("%s of the deleted call: still in the store (%v)", key, err)
		}
	}
	if _, ok := list("")[deleted.ID]; ok {
		t.Error("the deleted call is still listed")
	}
	if _, err := os.Stat(filepath.Join(dirOf[deleted.ID], deleted.Audio)); err != nil {
		t.Errorf("the sensor's copy of the deleted call: %v", err)
	}
}
