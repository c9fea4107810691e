package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
)

const userUsage = `usage:
  spanrec user add NAME --role admin|supervisor|agent [--extension N]... [--generate]
  spanrec user password NAME [--generate]
  spanrec user list
  spanrec user delete NAME`

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: user needs a subcommand\n%s", errUsage, userUsage)
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, args[1:], stdin, stdout, stderr)
	case "password", "passwd":
		return userPassword(ctx, args[1:], stdin, stdout, stderr)
	case "list", "ls":
		return userList(ctx, args[1:], stdout, stderr)
	case "delete", "del", "rm":
		return userDelete(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown user subcommand %q\n%s", errUsage, args[0], userUsage)
}

// extensionsFlag is --extension: repeatable, comma-separated values.
type extensionsFlag []string

func (l *extensionsFlag) String() string { return strings.Join(*l, ",") }
func (l *extensionsFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// accountsCommand parses a user or token subcommand's flags, which must
// leave want positional arguments, and opens the index (creating the data
// directory if create is set: the first user may come before any call).
func accountsCommand(ctx context.Context, fs *flag.FlagSet, args []string, want int, what string, stdout, stderr io.Writer, create bool) ([]string, index, error) {
	var c common
	c.register(fs)
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != want {
		return nil, nil, fmt.Errorf("%w: %s takes %s", errUsage, fs.Name(), what)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := e.openIndex(ctx, create)
	if err != nil {
		return nil, nil, err
	}
	return pos, db, nil
}

// cliEvent is an audit entry for an account change made on the command
// line, by whoever can write the data directory.
func cliEvent(action, detail string) auth.Event {
	return auth.Event{At: time.Now().UTC(), User: "cli", Action: action, Remote: "local", Detail: detail}
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	role := fs.String("role", "", "admin, supervisor or agent (required)")
	var exts extensionsFlag
	fs.Var(&exts, "extension", "an extension `N` (phone number) of the user, at least one for an agent; repeat or separate with commas")
	generate := fs.Bool("generate", false, "generate a random password and print it once")
	pos, db, err := accountsCommand(ctx, fs, args, 1, "one user NAME", stdout, stderr, true)
	if err != nil {
		return err
	}
	defer db.Close()
	name := pos[0]
	if !api.ValidUserName(name) {
		return fmt.Errorf("%w: user name %q: use 1 to 64 letters, digits and . _ @ -", errUsage, name)
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("%w: --role %q: want admin, supervisor or agent", errUsage, *role)
	}
	for _, x := range exts {
		if !api.ValidExtension(x) {
			return fmt.Errorf("%w: --extension %q: use up to 32 digits, letters and + * # . _ -", errUsage, x)
		}
	}
	if r == auth.Agent && len(exts) == 0 {
		return fmt.Errorf("%w: an agent sees only the calls of their extensions: give at least one --extension N", errUsage)
	}
	if _, err := db.User(ctx, name); err == nil {
		return fmt.Errorf("user %s exists", name)
	}
	pw, err := newPassword(name, *generate, stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.Params{})
	if err != nil {
		return err
	}
	u := auth.User{Name: name, Role: r, Extensions: exts, PasswordHash: hash, Created: time.Now().UTC()}
	if err := db.AddUser(ctx, u); err != nil {
		return err
	}
	if err := db.AddEvent(ctx, cliEvent(auth.ActionUserAdd, name+" ("+string(r)+")")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "User %s added (%s", name, r)
	if len(exts) > 0 {
		fmt.Fprintf(stdout, ", extensions %s", strings.Join(exts, ", "))
	}
	fmt.Fprintln(stdout, ").")
	if *generate {
		fmt.Fprintf(stdout, "Password: %s\n(shown only this once)\n", pw)
	}
	return nil
}

func userPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user password", flag.ContinueOnError)
	generate := fs.Bool("generate", false, "generate a random password and print it once")
	pos, db, err := accountsCommand(ctx, fs, args, 1, "one user NAME", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	name := pos[0]
	if _, err := db.User(ctx, name); err != nil {
		return err
	}
	pw, err := newPassword(name, *generate, stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.Params{})
	if err != nil {
		return err
	}
	if err := db.SetPassword(ctx, name, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Password of %s changed; the user's sessions are ended.\n", name)
	if *generate {
		fmt.Fprintf(stdout, "Password: %s\n(shown only this once)\n", pw)
	}
	return nil
}

// newPassword returns a generated password, or one typed on the terminal
// (twice, without echo) or read from the first line of stdin.
func newPassword(name string, generate bool, stdin io.Reader, stderr io.Writer) (string, error) {
	if generate {
		return auth.GeneratePassword(), nil
	}
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password for %s: ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Repeat it: ")
		b2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(b) != string(b2) {
			return "", errors.New("the two passwords differ")
		}
		pw = string(b)
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < api.MinPassword {
		return "", fmt.Errorf("%w: the password must have at least %d characters (or use --generate)", errUsage, api.MinPassword)
	}
	return pw, nil
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	_, db, err := accountsCommand(ctx, fs, args, 0, "no arguments", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	us, err := db.Users(ctx)
	if err != nil {
		return err
	}
	if len(us) == 0 {
		fmt.Fprintf(stderr, "no users yet: add one with '%s user add NAME --role admin'\n", prog)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tEXTENSIONS\tCREATED (UTC)")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, orDash(strings.Join(u.Extensions, ",")), u.Created.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func userDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user delete", flag.ContinueOnError)
	pos, db, err := accountsCommand(ctx, fs, args, 1, "one user NAME", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DeleteUser(ctx, pos[0]); err != nil {
		return err
	}
	if err := db.AddEvent(ctx, cliEvent(auth.ActionUserDelete, pos[0])); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "User %s deleted, with the user's sessions and API tokens.\n", pos[0])
	return nil
}

// ensureFirstAdmin creates the admin account name with a generated
// password, printed once, when the index has no account at all; with
// accounts present it creates none, and says how to set a new password
// when name is one of them (its password was printed on the first start
// only). It serves a first start (and the README's demo command) without
// any default password.
func ensureFirstAdmin(ctx context.Context, db index, name, dataDir string, stdout io.Writer) error {
	if !api.ValidUserName(name) {
		return fmt.Errorf("%w: --first-admin %q: use 1 to 64 letters, digits and . _ @ -", errUsage, name)
	}
	users, err := db.Users(ctx)
	if err != nil {
		return err
	}
	change := fmt.Sprintf("%s user password %s%s --generate", prog, name, dataFlag(dataDir))
	for _, u := range users {
		if u.Name == name {
			fmt.Fprintf(stdout, "The account %s exists already: its password was shown when it was created. Lost it? Set a new one with:\n  %s\n", name, change)
			return nil
		}
	}
	if len(users) > 0 {
		return nil
	}
	pw, err := newPassword(name, true, nil, io.Discard)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.Params{})
	if err != nil {
		return err
	}
	if err := db.AddUser(ctx, auth.User{Name: name, Role: auth.Admin, PasswordHash: hash, Created: time.Now().UTC()}); err != nil {
		return err
	}
	if err := db.AddEvent(ctx, cliEvent(auth.ActionUserAdd, name+" (admin, first start)")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created the first account: user %s (admin), password %s\n(shown only this once; set a new one with: %s)\n", name, pw, change)
	return nil
}

// dataFlag returns " --data DIR" for a hint to the user, or "" when DIR is
// what the command would use anyway.
func dataFlag(dir string) string {
	if dir == defaultData() {
		return ""
	}
	return " --data " + dir
}
