// Package pgtest runs a throwaway PostgreSQL cluster for the tests of one
// test binary, so that the postgres index is tested against the real
// server and not a mock.
//
// The cluster is made on first use (initdb, ~3 s) in a new temporary
// directory, listens on 127.0.0.1 on a free port and on a unix socket in
// that directory, runs with fsync off, and is stopped and removed by Main
// when the binary's tests end. PostgreSQL refuses to run as root: as root
// the cluster runs as the postgres user (runuser), in a directory it owns.
// Its superuser is "spanrec" with a random password (scram-sha-256), so the
// URLs the tests use carry credentials, as an operator's do.
//
// Each test gets a schema of its own (NewSchema) in one database.
//
// When the PostgreSQL server binaries are not installed, Start skips
// the test with a message saying so, unless the environment variable CI is
// set to true, where it fails it: CI must test both index backends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the name of the cluster's superuser, testDB the database
// the tests' schemas are made in.
const (
	superuser = "spanrec"
	testDB    = "spanrec_test"
)

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	dir      string // temporary parent directory, removed by stop
	bin      string // directory of initdb, pg_ctl
	data     string
	port     int
	password string
	asUser   string // "postgres" when run through runuser as root, else ""
	opts     string // the server's options (port, socket)
}

var (
	once    sync.Once
	shared  *Cluster
	errOnce error
	dbSeq   atomic.Int64
)

// Main runs the tests of m and then stops the cluster if a test started
// one. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Schemas returns a function that gives the URL of a new schema
// (NewSchema) for each name, the same one for a name asked again: the
// stores of the shared index suite (indextest.Backend.Open), which opens a
// store again by its name.
func Schemas() func(t *testing.T, name string) string {
	var (
		mu   sync.Mutex
		urls = map[string]string{}
	)
	return func(t *testing.T, name string) string {
		mu.Lock()
		defer mu.Unlock()
		u, ok := urls[name]
		if !ok {
			u = NewSchema(t)
			urls[name] = u
		}
		return u
	}
}

// NewSchema returns the URL (with the superuser's password) of a new,
// empty schema of its own in the cluster's test database, starting the
// cluster on first use: the URL sets search_path to it, so what an index
// creates there is apart from every other test's. (A schema takes
// milliseconds to create; a database takes a second or more.)
func NewSchema(t testing.TB) string {
	t.Helper()
	c := Start(t)
	name := fmt.Sprintf("t%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL(testDB))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	return c.URL(testDB) + "&search_path=" + name
}

// Start returns the test binary's cluster, starting it on first use. It
// skips t when PostgreSQL is not installed and $CI is not "true".
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := findBin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v (CI=true: the postgres index must be tested; apt-get install postgresql)", err)
		}
		t.Skipf("pgtest: %v; install the Debian package postgresql to run the PostgreSQL tests", err)
	}
	once.Do(func() {
		t.Logf("pgtest: starting a throwaway PostgreSQL cluster (%s)", bin)
		shared, errOnce = start(bin)
	})
	if errOnce != nil {
		t.Fatalf("pgtest: %v", errOnce)
	}
	return shared
}

// URL returns the URL of database db in the cluster, over TCP on the
// loopback address, with the superuser's credentials.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Password returns the superuser's password, for tests that check it never
// shows in logs or errors.
func (c *Cluster) Password() string { return c.password }

// findBin returns the directory of the PostgreSQL server binaries: the
// one on PATH, else the newest Debian /usr/lib/postgresql/N/bin.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin")
}

func start(bin string) (*Cluster, error) {
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	c.password = hex.EncodeToString(pw)
	dir, err := os.MkdirTemp("", "spanrec-pgtest-")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	// The cluster's user must reach its child directory.
	if err := os.Chmod(dir, 0o711); err != nil {
		return nil, c.fail(err)
	}
	c.data = filepath.Join(dir, "data")
	sock := filepath.Join(dir, "sock")
	for _, d := range []string{c.data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, c.fail(err)
		}
		if err := c.chown(d); err != nil {
			return nil, c.fail(err)
		}
	}
	pwfile := filepath.Join(sock, "pw")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		return nil, c.fail(err)
	}
	if err := c.chown(pwfile); err != nil {
		return nil, c.fail(err)
	}
	if out, err := c.run("initdb", "-D", c.data, "-U", superuser, "--pwfile", pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"); err != nil {
		return nil, c.fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	os.Remove(pwfile)
	// A port just found free may be taken before the server binds it:
	// try a few.
	for try := 0; ; try++ {
		c.port, err = freePort()
		if err != nil {
			return nil, c.fail(err)
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", c.port, sock)
		out, err := c.run("pg_ctl", "-D", c.data, "-w", "-t", "60", "-l", filepath.Join(c.data, "log"), "-o", opts, "start")
		if err == nil {
			c.opts = opts
			if err := c.createTestDB(); err != nil {
				return nil, errors.Join(err, c.stop())
			}
			return c, nil
		}
		if try == 3 {
			log, _ := os.ReadFile(filepath.Join(c.data, "log"))
			return nil, c.fail(fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log))
		}
	}
}

// Stop stops the server (fast shutdown: connections are cut, as when the
// database goes down, but what was committed is kept: the cluster runs
// with fsync and synchronous_commit off, so a crash would lose the last
// commits, which a production server does not) until Resume: an outage
// of the central index.
// The cluster is the test binary's: the test that stops it resumes it
// (Stop registers a Resume on t's cleanup for a test that fails first).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-w", "-m", "fast", "stop"); err != nil {
		t.Fatalf("pgtest: stop: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if _, err := c.run("pg_ctl", "-D", c.data, "status"); err != nil {
			c.Resume(t)
		}
	})
}

// Resume starts the server Stop stopped, on the same port.
func (c *Cluster) Resume(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-w", "-t", "60", "-l", filepath.Join(c.data, "log"), "-o", c.opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.data, "log"))
		t.Fatalf("pgtest: resume: %v\n%s\n%s", err, out, log)
	}
}

// createTestDB creates the database the tests' schemas are made in.
func (c *Cluster) createTestDB() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+testDB); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// run runs the server binary name with args as the cluster's user.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

func (c *Cluster) chown(path string) error {
	if c.asUser == "" {
		return nil
	}
	u, err := user.Lookup(c.asUser)
	if err != nil {
		return fmt.Errorf("user %s: %w", c.asUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// stop stops the server and removes its directory.
func (c *Cluster) stop() error {
	out, err := c.run("pg_ctl", "-D", c.data, "-w", "-m", "immediate", "stop")
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// fail removes the cluster's directory and returns err.
func (c *Cluster) fail(err error) error {
	os.RemoveAll(c.dir)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
