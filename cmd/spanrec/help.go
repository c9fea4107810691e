package main

import (
	"flag"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
)

// synopses are the usage lines of the commands, by flag set name: what
// follows "usage: spanrec NAME" in the command's -h.
var synopses = map[string]string{
	"record":        "-i IF [-i IF2]... [flags]",
	"import":        "[flags] FILE|-",
	"calls":         "[flags]",
	"show":          "[flags] CALL-ID",
	"doctor":        "-i IF [--for 30s] [flags]  |  spanrec doctor [flags] FILE",
	"fsck":          "[--repair] [flags]",
	"serve":         "[--listen ADDR] [flags]",
	"retention":     "[--dry-run] [flags]",
	"hold":          "[--release] [--reason TEXT] [flags] CALL-ID",
	"migrate":       "--to postgres://USER:PASSWORD@HOST/DB [--store s3://BUCKET/PREFIX?endpoint=…] [flags]",
	"user add":      "NAME --role admin|supervisor|agent [--extension N]... [flags]",
	"user password": "NAME [flags]",
	"user list":     "[flags]",
	"user delete":   "NAME [flags]",
	"token create":  "USER [--name LABEL] [flags]",
	"token list":    "[flags]",
	"token revoke":  "ID [flags]",
}

// printHelp writes a command's help: its usage line, then its flags.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	syn, ok := synopses[fs.Name()]
	if !ok {
		syn = "[flags]"
	}
	fmt.Fprintf(w, "usage: spanrec %s %s\n\nflags:\n", fs.Name(), syn)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		typ, use := flag.UnquoteUsage(f)
		if typ == "value" {
			typ = "string"
		}
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		name := dashes + f.Name
		if typ != "" {
			name += " " + typ
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" {
			use += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, use)
	})
	tw.Flush()
}

// versionText is what spanrec version prints: the module version and the
// VCS revision, time and state the go command stamped into the binary.
// A version set at link time (-ldflags "-X main.version=…") comes first.
func versionText(bi *debug.BuildInfo, ok bool) string {
	v := version
	if !ok {
		return "spanrec " + v
	}
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "spanrec %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(&b, " (revision %s", rev)
		if modified {
			b.WriteString("+dirty")
		}
		if at != "" {
			fmt.Fprintf(&b, ", %s", at)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s", bi.GoVersion)
	return b.String()
}

// prog is how the user runs spanrec, for the commands that hints print:
// "spanrec", the path typed ("./spanrec"), or "go run ./cmd/spanrec".
var prog = "spanrec"

// invocation returns prog for the program path arg0 (os.Args[0]): a binary
// that go run built lives in the go command's build cache
// (…/go-build/xx/HASH-d/spanrec, or wherever GOCACHE puts the cache: the
// xx/xx…-d/ layout tells) or in a temporary work directory
// (…/go-build123/b001/exe/spanrec).
func invocation(arg0 string) string {
	if arg0 == "" {
		return "spanrec"
	}
	slash := filepath.ToSlash(arg0)
	dirs := strings.Split(path.Dir(slash), "/")
	for _, dir := range dirs {
		if strings.HasPrefix(dir, "go-build") {
			return "go run ./cmd/spanrec"
		}
	}
	if n := len(dirs); n >= 2 && len(dirs[n-2]) == 2 && isHex(dirs[n-2]) &&
		strings.HasPrefix(dirs[n-1], dirs[n-2]) && strings.HasSuffix(dirs[n-1], "-d") && isHex(strings.TrimSuffix(dirs[n-1], "-d")) {
		return "go run ./cmd/spanrec"
	}
	if !strings.Contains(slash, "/") {
		return "spanrec"
	}
	return arg0
}

// isHex tells whether s is lower-case hexadecimal digits.
func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
