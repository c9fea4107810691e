package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spanrec/spanrec/auth"
)

const tokenUsage = `usage:
  spanrec token create USER [--name LABEL]
  spanrec token list [--user USER]
  spanrec token revoke ID`

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: token needs a subcommand\n%s", errUsage, tokenUsage)
	}
	switch args[0] {
	case "create", "add":
		return tokenCreate(ctx, args[1:], stdout, stderr)
	case "list", "ls":
		return tokenList(ctx, args[1:], stdout, stderr)
	case "revoke", "delete", "rm":
		return tokenRevoke(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, tokenUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown token subcommand %q\n%s", errUsage, args[0], tokenUsage)
}

// tokenCreate prints the new token alone on standard output, so that it
// can be piped into a secret store; the rest goes to standard error.
func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	name := fs.String("name", "", "a label for the token, e.g. the machine that uses it")
	pos, db, err := accountsCommand(ctx, fs, args, 1, "one USER", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, hash := auth.NewToken()
	id, err := db.AddToken(ctx, auth.Token{User: pos[0], Name: *name, Hash: hash, Created: time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := db.AddEvent(ctx, cliEvent(auth.ActionTokenCreate, "token "+strconv.FormatInt(id, 10)+" for "+pos[0])); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Token %d for %s (shown only this once; send it as \"Authorization: Bearer TOKEN\"):\n", id, pos[0])
	fmt.Fprintln(stdout, tok)
	return nil
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	user := fs.String("user", "", "only this user's tokens")
	_, db, err := accountsCommand(ctx, fs, args, 0, "no arguments", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	ts, err := db.Tokens(ctx, *user)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		fmt.Fprintln(stderr, "no tokens")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED (UTC)\tLAST USED (UTC)")
	for _, t := range ts {
		last := "never"
		if !t.LastUsed.IsZero() {
			last = t.LastUsed.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.User, orDash(t.Name), t.Created.Format("2006-01-02 15:04"), last)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	pos, db, err := accountsCommand(ctx, fs, args, 1, "one token ID (see '"+prog+" token list')", stdout, stderr, false)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: %q is not a token ID", errUsage, pos[0])
	}
	if err := db.DeleteToken(ctx, id); err != nil {
		return err
	}
	if err := db.AddEvent(ctx, cliEvent(auth.ActionTokenRevoke, "token "+pos[0])); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Token %d revoked.\n", id)
	return nil
}
