package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/atomicfile"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/safefile"
)

// SecretFlags say where a new Auth Token goes.
type SecretFlags struct {
	File   string
	Dir    string
	Reveal bool
	Cmd    string
	// CmdTimeout bounds each --secret-cmd run (--secret-cmd-timeout).
	CmdTimeout time.Duration
	Bulk       bool
	// one is set when the command named exactly one token (no --all, no
	// --stdin): a revealed secret then goes to stdout alone, not as
	// "SID<TAB>SECRET".
	one bool
	// Argv is Cmd split into words, once check has accepted it.
	Argv []string
	// root is Dir, opened and checked by check: every secret is written in it.
	root *os.Root
}

// Check refuses, before anything changes, a command that has nowhere to put
// a new secret: told nothing and not on a terminal (where stdout is the
// default), it exits 2. It also proves the destination writable and safe
// (not another user's), and --secret-cmd's command present, so a secret is
// never created only to be lost.
func (s *SecretFlags) Check(io *iostreams.IOStreams) error {
	if s.CmdTimeout < 0 {
		return cmdutil.UsageErrorf("invalid --secret-cmd-timeout %s: must be positive", s.CmdTimeout)
	}
	given := 0
	for _, set := range []bool{s.File != "", s.Dir != "", s.Reveal} {
		if set {
			given++
		}
	}
	if s.File == "-" {
		// "-" is stdout, exactly as --reveal.
		s.File, s.Reveal = "", true
	}
	switch {
	case given > 1:
		return cmdutil.UsageErrorf("choose one destination for the new Auth Token: --secret-file, --secret-dir or --reveal (--secret-cmd may join any of them)")
	case given == 0 && s.Cmd != "":
		// The command is the destination.
	case given == 0 && io.CanPrompt():
		// A person at a terminal; never a CI job, even one with a terminal.
		s.Reveal = true
	case given == 0:
		return cmdutil.UsageErrorf("the new Auth Token needs a destination (stdout is the default only for a person at a terminal): pass --secret-file PATH%s, --secret-cmd CMD or --reveal; nothing changed", map[bool]string{true: ", --secret-dir DIR", false: ""}[s.Bulk])
	}
	if s.Cmd != "" {
		argv, err := SplitCommand(s.Cmd)
		if err != nil {
			return err
		}
		if _, err := exec.LookPath(argv[0]); err != nil {
			return cmdutil.UsageErrorf("--secret-cmd: %w; nothing changed", err)
		}
		s.Argv = argv
	}
	if s.File != "" {
		return checkSecretFile(s.File)
	}
	if s.Dir != "" {
		root, err := OpenSecretDir(s.Dir)
		s.root = root
		return err
	}
	return nil
}

// checkSecretFile refuses a --secret-file that is not a new or regular
// file of the user's own, or whose directory cannot take it.
func checkSecretFile(path string) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return cmdutil.UsageErrorf("--secret-file: %w; nothing changed", err)
	case !st.Mode().IsRegular():
		return cmdutil.UsageErrorf("--secret-file %s is not a regular file (%s): name a new or regular file; nothing changed", path, safefile.Kind(st.Mode()))
	default:
		if err := config.CheckOwner("--secret-file", path, st, false); err != nil {
			return err
		}
	}
	return probeWritable(filepath.Dir(path))
}

// OpenSecretDir opens --secret-dir, making it 0700 when it does not exist
// (never through a symbolic link), and refuses one that is a symbolic link,
// or that another user owns or can write: they could read the secrets, or
// plant files in their place. The checks are made on the open directory, and
// every secret is then written relative to it (an os.Root), so it cannot be
// swapped between check and use.
func OpenSecretDir(dir string) (*os.Root, error) {
	d, err := safefile.OpenNoFollow(dir, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// Made without following a link, then opened and checked as any other.
		if err := safefile.MkdirAll(dir, 0o700); err != nil {
			return nil, cmdutil.UsageErrorf("--secret-dir: %w", err)
		}
		d, err = safefile.OpenNoFollow(dir, os.O_RDONLY, 0)
	}
	switch {
	case errors.Is(err, safefile.ErrIsLink):
		return nil, cmdutil.UsageErrorf("refusing --secret-dir %s: it is a symbolic link, and impactctl does not follow a link to where secrets are written; name the directory itself; nothing changed", dir)
	case err != nil:
		return nil, cmdutil.UsageErrorf("--secret-dir: %w; nothing changed", err)
	}
	defer d.Close()
	st, err := d.Stat()
	switch {
	case err != nil:
		return nil, cmdutil.UsageErrorf("--secret-dir: %w; nothing changed", err)
	case !st.IsDir():
		return nil, cmdutil.UsageErrorf("--secret-dir %s is not a directory; nothing changed", dir)
	}
	if err := config.CheckOwner("--secret-dir", dir, st, false); err != nil {
		return nil, err
	}
	if err := config.CheckNotWritableByOthers("--secret-dir", dir, st, 0o700); err != nil {
		return nil, err
	}
	root, err := safefile.RootOf(d)
	if err != nil {
		return nil, cmdutil.UsageErrorf("--secret-dir: %w; nothing changed", err)
	}
	if err := probeWritableIn(root); err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// probeWritable fails when dir cannot take a new file.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".impactctl-probe-*")
	if err != nil {
		return cmdutil.UsageErrorf("cannot write the new Auth Token there: %w; nothing changed", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// probeWritableIn fails when root cannot take a new file.
func probeWritableIn(root *os.Root) error {
	name := ".impactctl-probe-" + strconv.FormatUint(rand.Uint64(), 36)
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return cmdutil.UsageErrorf("cannot write the new Auth Token there: %w; nothing changed", err)
	}
	f.Close()
	return root.Remove(name)
}

// Close lets go of --secret-dir, once every secret is written.
func (s *SecretFlags) Close() {
	if s.root != nil {
		s.root.Close()
		s.root = nil
	}
}

// CheckSelf refuses to hand the token in use's new secret only to
// --secret-cmd: should the command fail, the credential the job runs on
// would be lost. A file keeps it.
func (s *SecretFlags) CheckSelf(sid string) error {
	if s.Cmd != "" && s.File == "" && s.Dir == "" {
		return cmdutil.UsageErrorf("%s is the token in use: resetting it with --secret-cmd needs --secret-file too, so a failed hand-off never loses the credential this job runs on; nothing changed", sid)
	}
	return nil
}

// Save writes a secret to its file, if one was named; it reports where.
// Under --secret-dir the file is named after sid, the SID the user asked
// for, checked again here so no name can leave the directory, and written
// in the directory check opened.
func (s *SecretFlags) Save(sid, secret string) (string, error) {
	path := s.File
	if s.Dir != "" {
		path, err := SecretPath(s.Dir, sid)
		if err != nil {
			return "", err
		}
		if s.root == nil {
			return "", fmt.Errorf("refusing to write %s: --secret-dir was not checked", path)
		}
		// In the directory checked, through its descriptor: never the path again.
		if err := atomicfile.WriteIn(s.root, sid, []byte(secret+"\n"), 0o600); err != nil {
			return "", err
		}
		return path, nil
	}
	if path == "" {
		return "", nil
	}
	if err := atomicfile.Write(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// SecretPath is dir/sid, refused unless sid is an Account SID and the path
// is a file directly inside dir.
func SecretPath(dir, sid string) (string, error) {
	if !contract.ValidSID(sid) {
		return "", fmt.Errorf("refusing to name a file after %q: not an Account SID", sid)
	}
	path := filepath.Join(dir, sid)
	if filepath.Dir(path) != filepath.Clean(dir) || filepath.Base(path) != sid {
		return "", fmt.Errorf("refusing to write %s: not inside --secret-dir %s", path, dir)
	}
	return path, nil
}

// handOff gives a new secret to --secret-cmd, if one was named, after its
// file (if any) was written; no variable holding inUse, the credential the
// command runs with, reaches it.
func (s *SecretFlags) handOff(ctx context.Context, msgs *iostreams.Messages, sid, secret, inUse string) error {
	if len(s.Argv) == 0 {
		return nil
	}
	// The command's own output is the one thing on stderr impactctl passes
	// through as it is, in JSON modes too: the user asked for it.
	if s.CmdTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.CmdTimeout)
		defer cancel()
	}
	err := msgs.PassThrough(func(raw io.Writer) error { return HandOff(ctx, s.Argv, sid, secret, inUse, raw) })
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s did not finish within --secret-cmd-timeout %s", s.Argv[0], s.CmdTimeout)
	}
	return err
}

// MaskSecret asks GitHub Actions (mask set) to hide secret from the job's
// log. The runner reads workflow commands on stderr as on stdout, so the
// line goes to stderr, before the secret appears anywhere: stdout stays
// exactly the data a script captures (`auth token > f`). In JSON modes it
// is the one stderr line that is not JSON.
func MaskSecret(m *iostreams.Messages, mask bool, secret string) {
	if secret == "" || !mask {
		return
	}
	m.WriteUnsanitized("::add-mask::" + secret + "\n")
}

// InGitHubActions reports whether the command runs as a GitHub Actions step.
func InGitHubActions(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// badAnswerf refuses a server answer that cannot be trusted with a secret:
// exit 9, before any secret is written anywhere.
func badAnswerf(format string, a ...any) error {
	return &cmdutil.ExitError{Code: cmdutil.ExitUnavailable, Kind: "invalid_answer", Err: &UntrustedAnswer{fmt.Sprintf("refusing the server's answer: "+format+"; no secret was written", a...)}}
}

// UntrustedAnswer is badAnswerf's error, found again in a bulk result.
type UntrustedAnswer struct{ msg string }

func (e *UntrustedAnswer) Error() string { return e.msg }

// checkIssued refuses a token the server says it issued a secret to,
// unless it names the SID asked for (any SID, for a new token) and its
// secret is an Auth Token (see checkSecret).
func checkIssued(tok *client.Token, asked string) error {
	switch {
	case tok == nil:
		return badAnswerf("it holds no token")
	case !contract.ValidSID(tok.AccountSid):
		return badAnswerf("it names %q, which is not an Account SID", tok.AccountSid)
	case asked != "" && tok.AccountSid != asked:
		return badAnswerf("it names token %s where %s was asked for", tok.AccountSid, asked)
	}
	return CheckSecret(tok.AuthToken, "the new Auth Token of "+tok.AccountSid)
}

// CheckSecret refuses (exit 9) a secret from a server that is not an Auth
// Token as the API issues them, 32 letters, digits, '.', '_' or '-': only
// such a secret is printed, written or handed off. Anything else could
// carry workflow commands into a CI log, escape its mask, or make a file
// that never authenticates. The secret itself is never quoted.
func CheckSecret(secret, what string) error {
	if !contract.ValidAuthToken(secret) {
		return badAnswerf("%s is not an Auth Token (%d letters, digits, '.', '_' or '-')", what, contract.AuthTokenLength)
	}
	return nil
}
