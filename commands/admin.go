package commands

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/safefile"
	"github.com/impactcom/impactctl/server"
)

// RecoverOptions are `admin recover`'s inputs.
type RecoverOptions struct {
	Env        cmdEnv
	Account    string
	DB         string
	KeyFile    string
	SecretFile string
}

// newAdminCmd is `admin` with its one subcommand, `recover`.
func newAdminCmd(f *Factory) *cobra.Command {
	return newGroupCmd("admin", "Operate on the server's database directly (break glass)", newAdminRecoverCmd(f, nil))
}

func newAdminRecoverCmd(f *Factory, runF func(*RecoverOptions) error) *cobra.Command {
	opts := &RecoverOptions{}
	recoverCmd := &cobra.Command{
		Use:   "recover ACCOUNT --db PATH|URL --secret-file FILE",
		Short: "Give an account a new token holding every scope, working on the database directly",
		Long: `Give an account that has no manager left a new token named "Recovered admin":
enabled, holding apitokens.write and every scope of the account's catalog.

This is the break glass for an account where no enabled token holds every scope
any token holds, so some tokens can no longer be managed through the API. It
works on the server's database directly, not through the API: whoever can read
the database and its key can run it. It works with the server stopped or
running. On PostgreSQL (--db postgres://… or IMPACTCTL_DB, with --key-file or
IMPACTCTL_KEY_FILE) it works while the servers run, and every one of them
accepts the new token at once.

ACCOUNT is the account's numeric Id (as "impactctl account show" prints it) or
the SID of any of its tokens. The new secret goes only to --secret-file, which
must not exist yet (it is created 0600) in a directory of your own (or root's)
that group and others cannot write; the new token's SID is printed on
stdout ({"AccountSid": …} with -o json). Exit 6 when there is no such account.`,
		Example: `  impactctl admin recover 1000001 --db impactctl.db --secret-file recovered.secret`,
		Args:    exactArgs(1, "one ACCOUNT (an account Id or a token SID)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Account = f.env(), args[0]
			if !cmd.Flags().Changed("db") {
				opts.DB = opts.Env.Getenv("IMPACTCTL_DB")
			}
			if !cmd.Flags().Changed("key-file") {
				opts.KeyFile = opts.Env.Getenv("IMPACTCTL_KEY_FILE")
			}
			if runF != nil {
				return runF(opts)
			}
			return recoverRun(cmd.Context(), opts)
		},
	}
	fl := recoverCmd.Flags()
	fl.StringVar(&opts.DB, "db", "", "the server's database: a SQLite file or a postgres:// URL (or IMPACTCTL_DB)")
	fl.StringVar(&opts.KeyFile, "key-file", "", "the database's encryption key (or IMPACTCTL_KEY_FILE; SQLite's default: beside the database, .key)")
	fl.StringVar(&opts.SecretFile, "secret-file", "", "where the new secret goes; created 0600, must not exist")
	return recoverCmd
}

// checkRecoverFlags refuses, before anything is opened, a recover without
// a database, a key or a file for the secret.
func checkRecoverFlags(opts *RecoverOptions) error {
	if opts.DB == "" {
		return cmdutil.UsageErrorf("--db is required: the server's database")
	}
	if opts.SecretFile == "" {
		return cmdutil.UsageErrorf("--secret-file is required: the new secret is written only there")
	}
	if opts.SecretFile == "-" {
		return cmdutil.UsageErrorf("--secret-file - is not allowed: the secret is written only to a file")
	}
	postgres := server.IsPostgresDSN(opts.DB)
	if postgres && opts.KeyFile == "" {
		return cmdutil.UsageErrorf("a PostgreSQL --db needs --key-file (or IMPACTCTL_KEY_FILE): the key the servers use")
	}
	if _, err := os.Stat(opts.DB); err != nil && !postgres {
		return cmdutil.UsageErrorf("no database at %s: %w", opts.DB, err)
	}
	key := opts.KeyFile
	if key == "" {
		key = opts.DB + ".key"
	}
	if _, err := os.Stat(key); err != nil {
		return cmdutil.UsageErrorf("no key file at %s: %w; pass the server's --key-file", key, err)
	}
	return nil
}

// openRecoverDir opens the directory of admin recover's --secret-file as an
// os.Root and checks it on that descriptor, as the server checks where it
// makes a file holding a secret: this user's or root's, and not writable by
// group or others, who could read or replace the secret. It returns the root
// and the file's name in it.
func openRecoverDir(path string) (*os.Root, string, error) {
	dirPath, name := filepath.Split(path)
	if dirPath == "" {
		dirPath = "."
	}
	dirPath = filepath.Clean(dirPath)
	if name == "" || name == "." || name == ".." {
		return nil, "", cmdutil.UsageErrorf("--secret-file %s names no file; name a new file for the secret", path)
	}
	dir, err := os.OpenRoot(dirPath)
	if err != nil {
		return nil, "", cmdutil.UsageErrorf("cannot create the secret file: %w", err)
	}
	st, err := dir.Stat(".")
	if err != nil {
		dir.Close()
		return nil, "", cmdutil.UsageErrorf("cannot create the secret file: %w", err)
	}
	u := safefile.Check(st, safefile.Rule{Type: safefile.Directory, Owners: safefile.MineOrRoot, NoWrite: 0o022})
	if u == nil {
		return dir, name, nil
	}
	dir.Close()
	refuse := "refusing --secret-file " + path + ": its directory " + dirPath
	switch {
	case u.Problem == safefile.OtherOwner:
		return nil, "", cmdutil.UsageErrorf("%s belongs to another user (%s), who could read or replace the secret; use a directory of your own, or if it is yours, run `chown %s %s`; nothing changed",
			refuse, safefile.UserName(u.UID), safefile.UserName(safefile.Me()), dirPath)
	case u.Mode&fs.ModeSticky != 0:
		return nil, "", cmdutil.UsageErrorf("%s is shared with other users (mode %04o), who could read or replace the secret; keep it in a private directory, e.g. `mkdir -m 700 ~/impactctl`; nothing changed",
			refuse, uint32(u.Mode.Perm())|0o1000)
	}
	return nil, "", cmdutil.UsageErrorf("%s is writable by group or others (mode %04o), who could read or replace the secret; run `chmod go-w %s`; nothing changed",
		refuse, u.Mode.Perm(), dirPath)
}

func recoverRun(ctx context.Context, opts *RecoverOptions) error {
	e := opts.Env
	if err := checkRecoverFlags(opts); err != nil {
		return err
	}
	// The file first, so nothing changes when it cannot be written: in a
	// directory checked on its descriptor, with O_EXCL relative to it, so an
	// existing file (or a link planted in its place) is never written through.
	dir, name, err := openRecoverDir(opts.SecretFile)
	if err != nil {
		return err
	}
	defer dir.Close()
	file, err := dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return cmdutil.UsageErrorf("%s already exists; name a new file for the secret", opts.SecretFile)
	}
	if err != nil {
		return cmdutil.UsageErrorf("cannot create the secret file: %w", err)
	}
	written := false
	defer func() {
		if !written {
			file.Close()
			dir.Remove(name)
		}
	}()
	store, env, err := server.Open(ctx, opts.DB, opts.KeyFile, server.StoreOptions{})
	var coded cmdutil.ExitCoder
	if errors.As(err, &coded) {
		return err // unsafe files: the user's to fix (exit 2)
	}
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitUnavailable, Err: err}
	}
	rec, err := server.Recover(ctx, store, env, opts.Account)
	if cerr := store.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if errors.Is(err, server.ErrNoAccount) {
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: err}
	}
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitUnavailable, Err: err}
	}
	_, werr := file.WriteString(rec.AuthToken + "\n")
	serr := file.Sync()
	cerr := file.Close()
	written = true
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("token %s was created, but its secret could not be saved (%w); delete it and run again", rec.AccountSid, err)
	}
	iostreams.Infof(e.IO.ErrOut, "account %s: created token %s %q holding every scope; its secret is in %s",
		rec.Account, rec.AccountSid, "Recovered admin", opts.SecretFile)
	if !e.Printer.Table() {
		return e.Printer.Object(map[string]string{"AccountSid": rec.AccountSid})
	}
	fmt.Fprintln(e.IO.Out, rec.AccountSid)
	return nil
}
