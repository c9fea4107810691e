// Command spanrec is a passive VoIP call recorder: it finds SIP calls and
// their RTP media in traffic copied from a mirror (SPAN) port or in a
// capture file, and saves each call as stereo audio, a pcap and a
// searchable index entry.
//
// Usage:
//
//	spanrec record -i IF [-i IF2]     record calls from mirror ports until stopped
//	spanrec import [flags] FILE|-     record every call in a pcap/pcapng file
//	spanrec calls [flags]             list recorded calls, newest first
//	spanrec show [flags] CALL-ID      everything known about one call
//	spanrec doctor -i IF [--for 30s]  is this mirror port fit to record from?
//	spanrec fsck [--repair]           check (and repair) the index against the files
//	spanrec retention [--dry-run]     delete the calls the retention rules say are too old
//	spanrec hold [--release] CALL-ID  legal hold: keep a call from every deletion
//	spanrec ship --index URL --store URL|--no-store  send the calls recorded here to the central index and store
//	spanrec migrate --to URL [--store URL]  move this data directory (calls, accounts, audit) to the central side
//	spanrec serve [--listen ADDR]     web UI and HTTP API over the data directory
//	                                  (or, with --store, the central archive's store)
//	spanrec user add|list|delete      accounts of the web UI and API
//	spanrec token create|list|revoke  API tokens for machines
//
// Every command takes --data DIR (default $SPANREC_DATA, else ./spanrec-data)
// and --config FILE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
)

const usage = `spanrec — passive VoIP call recorder

Usage:
  spanrec record -i IF [-i IF2] [flags]   record calls from mirror ports until SIGINT/SIGTERM
                                   (SIGHUP: reload the configuration, reopen the log file)
  spanrec import [flags] FILE|-    record every call in a pcap/pcapng file (gzip ok; - = stdin)
  spanrec calls  [flags]           list recorded calls, newest first
  spanrec show   [flags] CALL-ID   one call: parties, times, status, streams, quality, files
  spanrec doctor -i IF [--for 30s] [--json]   is this mirror port fit to record from? (exit 0 fit, 1 not)
  spanrec doctor [--json] FILE     the same diagnosis on a capture file taken at the mirror port
  spanrec fsck [--repair]          index ↔ files: missing files, SHA-256 mismatches, unindexed
                                   recordings, spool leftovers (exit 1 if any, unless repaired)
  spanrec retention [--dry-run]    apply the retention rules now: say what is (would be) deleted
  spanrec hold [--release] [--reason TEXT] CALL-ID   legal hold: no rule, disk guard or user
                                   deletes the call until released
  spanrec ship --index postgres://… --store s3://…   send this data directory's calls (index rows,
                                   audio, pcap) to the central index and store; only what they lack
                                   (record and import with --index postgres://… [--store s3://…]
                                   record here and ship on their own); --no-store: rows only;
                                   --wait: if another process ships this directory, wait for it
  spanrec migrate --to postgres://… [--store s3://…]   move an existing recorder to the central side:
                                   calls, users, tokens, tags, notes, holds, audit trail; resumable, verified
  spanrec serve [--listen 127.0.0.1:8080] [--tls-cert F --tls-key F]   web UI and HTTP API (no capture)
  spanrec serve --index postgres://… --store s3://…   the central archive: every sensor's shipped
                                   calls, recordings read from the store (HTTP ranges as ranged GETs)
  spanrec user add NAME --role admin|supervisor|agent [--extension N]... [--generate]
  spanrec user password NAME | user list | user delete NAME
  spanrec token create USER [--name LABEL] | token list | token revoke ID
  spanrec version

Common flags:
  --data DIR      data directory (default $SPANREC_DATA, else ./spanrec-data)
  --config FILE   configuration file (YAML; see docs/spanrec.yaml)
  --log-level L   debug, info, warn, error (default info)

Run 'spanrec help COMMAND' (or 'spanrec COMMAND -h') for the flags of a command.
`

var version = "dev"

func main() {
	prog = invocation(os.Args[0])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks errors caused by the command line: exit status 2.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "record":
		err = cmdRecord(ctx, args[1:], stdout, stderr)
	case "import":
		err = cmdImport(ctx, args[1:], stdin, stdout, stderr)
	case "calls":
		err = cmdCalls(ctx, args[1:], stdout, stderr)
	case "show":
		err = cmdShow(ctx, args[1:], stdout, stderr)
	case "doctor":
		err = cmdDoctor(ctx, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "fsck":
		err = cmdFsck(ctx, args[1:], stdout, stderr)
	case "retention":
		err = cmdRetention(ctx, args[1:], stdout, stderr)
	case "hold":
		err = cmdHold(ctx, args[1:], stdout, stderr)
	case "ship":
		err = cmdShip(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "user":
		err = cmdUser(ctx, args[1:], stdin, stdout, stderr)
	case "token":
		err = cmdToken(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		if len(args) > 1 {
			fmt.Fprintln(stdout, "usage: spanrec version\n\nprints the version, the VCS revision it was built from and the Go version")
			return 0
		}
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionText(bi, ok))
	case "help", "-h", "--help":
		if len(args) > 1 && args[0] == "help" {
			// "help CMD [SUB]" is "CMD [SUB] --help".
			return run(ctx, append(args[1:len(args):len(args)], "--help"), stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "spanrec: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "spanrec:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "spanrec:", err)
		return 1
	}
}

// common holds the flags every command has.
type common struct {
	data     string
	config   string
	logLevel string
	index    string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", defaultData(), "data directory")
	fs.StringVar(&c.config, "config", os.Getenv("SPANREC_CONFIG"), "configuration file (YAML)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.index, "index", os.Getenv("SPANREC_INDEX"), "call index: sqlite:PATH or postgres://USER:PASSWORD@HOST/DB (default: the data directory's index.db)")
}

// defaultData is the data directory when --data is not given: $SPANREC_DATA,
// else ./spanrec-data (a configuration file's data comes before it).
func defaultData() string {
	if d := os.Getenv("SPANREC_DATA"); d != "" {
		return d
	}
	return "spanrec-data"
}

func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, c.logLevel)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv})), nil
}

var badValue = regexp.MustCompile(`(?s)^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^:]+): (.*)$`)

// parse parses flags that may come before or after the positional
// arguments ("import FILE --data DIR" and "import --data DIR FILE"). On -h
// or --help it writes the command's help to stdout and returns
// flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(stdout, fs)
				return nil, err
			}
			msg := err.Error()
			// The flag package's "invalid value "X" for flag -NAME: WHY"
			// becomes "--NAME "X": WHY", or "--NAME: WHY" when WHY quotes X.
			if m := badValue.FindStringSubmatch(msg); m != nil {
				if strings.HasPrefix(m[3], m[1]) {
					msg = "--" + m[2] + ": " + m[3]
				} else {
					msg = "--" + m[2] + " " + m[1] + ": " + m[3]
				}
			}
			return nil, fmt.Errorf("%w: %s %s", errUsage, fs.Name(), msg)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
