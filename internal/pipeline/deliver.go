package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/keyring"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// deliverResets puts each new secret where it was told, prints one result
// per token and, when the token in use was among them, completes its
// self-rotation.
func (r *Run) deliverResets(ctx context.Context, results []Result, s *SecretFlags, key string) error {
	if err := CheckResetAnswers(results); err != nil {
		return err
	}
	// With --reveal (or --secret-file -) a table's stdout is exactly the
	// secret of the one token named, or "SID<TAB>SECRET" a line; the
	// results go to stderr.
	bare := s.Reveal && r.Printer.Table()
	var revealed [][2]string
	var self, selfPath string
	var notHanded []string
	selfNotHanded := false
	for i, res := range results {
		if res.Status != "OK" {
			continue
		}
		secret := res.ApiToken.AuthToken
		path, handErr, err := r.HandOver(ctx, res, s, key)
		if err != nil {
			results[i] = ErrResult(res.AccountSid, res.Name, err)
			continue
		}
		results[i].Message = resetMessage(res.ApiToken.Replayed, path, bare, handErr, len(s.Argv) > 0)
		if path == "" && bare {
			revealed = append(revealed, [2]string{res.AccountSid, secret})
		}
		if handErr != nil {
			notHanded = append(notHanded, res.AccountSid)
		}
		if !s.Reveal {
			shown := *res.ApiToken
			shown.AuthToken = ""
			results[i].ApiToken = &shown
		}
		if r.IsInUse(res.AccountSid) {
			self, selfPath = secret, path
			selfNotHanded = handErr != nil
		}
	}
	out := r.IO.Out
	if bare {
		out = r.IO.ErrOut
	}
	err := r.printResultsTo(out, results)
	r.printRevealed(revealed, s.one)
	profileSaved := false
	if self != "" && r.Self != nil {
		if serr := r.Self.Finish(ctx, r.IO.ErrOut, self, selfPath); serr != nil {
			err = serr
		} else {
			profileSaved = r.Self.Creds.Profile != ""
		}
	}
	if len(notHanded) > 0 {
		herr := handOffError(notHanded, "reset", "with the same SIDs and ", key, nil, err)
		if selfNotHanded && !profileSaved {
			herr.Err = fmt.Errorf("%w\n%s", herr.Err, rerunAsSelf(r.InUse, selfPath))
		}
		return herr
	}
	return err
}

// resetMessage says what became of one token's reset: replayed or not,
// where its new secret went (a file, or stdout when bare), and whether
// --secret-cmd (cmd set) took it.
func resetMessage(replayed bool, path string, bare bool, handErr error, cmd bool) string {
	msg := "reset"
	if replayed {
		// The same key as an earlier run: its answer again, no new reset.
		msg = "reset earlier with this --idempotency-key (replayed; nothing reset now)"
	}
	switch {
	case path != "":
		msg += "; new Auth Token in " + path
	case bare:
		msg += "; new Auth Token on stdout"
	}
	switch {
	case handErr != nil:
		msg += "; not handed to --secret-cmd (" + handErr.Error() + ")"
	case cmd:
		msg += "; handed to --secret-cmd"
	}
	return msg
}

// printRevealed writes the revealed secrets to stdout: the one token's
// secret alone, else "SID<TAB>SECRET" a line.
func (r *Run) printRevealed(revealed [][2]string, one bool) {
	for _, rv := range revealed {
		if one {
			fmt.Fprintln(r.IO.Out, rv[1])
			continue
		}
		fmt.Fprintf(r.IO.Out, "%s\t%s\n", rv[0], rv[1])
	}
}

// rerunAsSelf tells how to run again after the token in use was reset but
// its new secret not handed off: with the new secret, from its file. The
// old secret, still in IMPACTCTL_AUTH_TOKEN or a profile the reset did not
// update, stops working once the new one is used (401).
func rerunAsSelf(sid, path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return fmt.Sprintf("%s is the token in use and its old Auth Token no longer works: run it again with the new one, from its file: IMPACTCTL_ACCOUNT_SID=%s IMPACTCTL_AUTH_TOKEN_FILE=%s, and IMPACTCTL_AUTH_TOKEN unset",
		sid, sid, shellQuote(path))
}

// CheckResetAnswers checks every reset's answer before any secret is
// written: one naming other tokens than those asked for, or a malformed SID
// or secret, is refused.
func CheckResetAnswers(results []Result) error {
	for _, res := range results {
		var ua *UntrustedAnswer
		if errors.As(res.Err, &ua) {
			return res.Err
		}
		if res.Status == "OK" {
			if err := checkIssued(res.ApiToken, res.AccountSid); err != nil {
				return err
			}
		}
	}
	return nil
}

// HandOver puts one reset's new secret where it was told: its file (path,
// "" when none), then --secret-cmd (handErr when that failed). err is a
// file that could not be written: the secret went nowhere.
func (r *Run) HandOver(ctx context.Context, res Result, s *SecretFlags, key string) (path string, handErr, err error) {
	secret := res.ApiToken.AuthToken
	// Masked before it is written anywhere: a --secret-cmd's output, or a
	// later step, may show it.
	MaskSecret(r.Msgs, r.MaskSecrets, secret)
	path, err = s.Save(res.AccountSid, secret)
	if err != nil {
		return "", nil, fmt.Errorf("reset, but the new Auth Token could not be saved (%w): run the same command again with --idempotency-key %s to get it back", err, key)
	}
	return path, s.handOff(ctx, r.Msgs, res.AccountSid, secret, r.SecretInUse), nil
}

// DeliverNewSecret puts a fresh secret where it was told (its file, then
// --secret-cmd) and prints the token: the secret itself only with --reveal.
func (r *Run) DeliverNewSecret(ctx context.Context, tok *client.Token, s *SecretFlags, key, done string) error {
	if err := checkIssued(tok, ""); err != nil {
		return err
	}
	MaskSecret(r.Msgs, r.MaskSecrets, tok.AuthToken)
	path, err := s.Save(tok.AccountSid, tok.AuthToken)
	if err != nil {
		return fmt.Errorf("token %s was %s but its new Auth Token could not be saved (%w): run the same command again with --idempotency-key %s to get it back",
			tok.AccountSid, done, err, key)
	}
	handErr := s.handOff(ctx, r.Msgs, tok.AccountSid, tok.AuthToken, r.SecretInUse)
	iostreams.Infof(r.IO.ErrOut, "%s token %s (%s)", done, tok.AccountSid, output.Sanitize(tok.Name))
	if path != "" {
		iostreams.Infof(r.IO.ErrOut, "the new Auth Token is in %s", path)
	}
	if handErr == nil && len(s.Argv) > 0 {
		iostreams.Infof(r.IO.ErrOut, "the new Auth Token was handed to --secret-cmd")
	}
	shown := *tok
	if !s.Reveal {
		shown.AuthToken = ""
	}
	switch {
	case !r.Printer.Table():
		err = r.Printer.Object(&shown)
	case s.Reveal:
		// With --reveal (or --secret-file -) stdout is exactly the secret.
		_, err = fmt.Fprintln(r.IO.Out, tok.AuthToken)
	default:
		err = output.KeyValues(r.IO.Out, TokenDetails(&shown))
	}
	if handErr != nil {
		return handOffError([]string{tok.AccountSid}, done, "with ", key, handErr, err)
	}
	return err
}

// handOffError is exit 11: tokens changed, but --secret-cmd did not take
// their new secrets. Re-running with the same key replays the server's
// answers (kept 24 hours) without changing anything twice. Other failures
// of the run are named too.
func handOffError(sids []string, done, same, key string, why, other error) *cmdutil.ExitError {
	them, their := "them", "their answers"
	if len(sids) == 1 {
		them, their = "it", "its answer"
	}
	because := ""
	if why != nil {
		because = " (" + why.Error() + ")"
	}
	msg := fmt.Sprintf("%s %s, but --secret-cmd failed for %s%s: run the same command again %s--idempotency-key %s within 24 hours to hand %s off again (the server replays %s; nothing is %s twice)",
		cmdutil.Plural(len(sids), "token"), done, strings.Join(sids, ", "), because, same, key, them, their, done)
	if other != nil {
		msg += "; also: " + other.Error()
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitSecretCmd, Err: errors.New(msg)}
}

// replaySelfReset asks the server again for the answer of a reset of the
// token in use made with key, using the secret that reset replaced, and
// completes it.
func (r *Run) replaySelfReset(ctx context.Context, s *SecretFlags, key string) error {
	sid := r.InUse
	iostreams.Infof(r.IO.ErrOut, "the Auth Token in use was refused: replaying an earlier reset of %s with --idempotency-key %s", sid, key)
	after, err := r.API.Act(ctx, client.ActionReset, sid, r.WriteOptions(client.ActionReset, client.WriteOptions{IdempotencyKey: key}))
	if err != nil {
		return err
	}
	if err := checkIssued(after, sid); err != nil {
		return err
	}
	s.one = true
	return r.deliverResets(ctx, []Result{okResult(after, "reset")}, s, key)
}

// SelfRotation completes a reset of the token in use.
type SelfRotation struct {
	Creds        *config.Credentials
	ClientFor    func(creds *config.Credentials, secret string) (*client.Client, error)
	UpdateConfig func(func(*config.Config) error) (*config.Config, error)
	// Keyring holds the profile's secret when it keeps it there.
	Keyring keyring.Store
}

// Finish runs after the new secret was saved where the user asked: it
// checks the new secret works, then rewrites the stored profile, or says
// which variable to update.
func (s *SelfRotation) Finish(ctx context.Context, errOut io.Writer, secret, savedTo string) error {
	creds := s.Creds
	nc, err := s.ClientFor(creds, secret)
	if err != nil {
		return err
	}
	var verr error
	for attempt := 0; attempt < 3; attempt++ {
		if _, verr = nc.Current(ctx); verr == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	if verr != nil {
		return fmt.Errorf("the token in use was reset but its new Auth Token could not be verified: %w", verr)
	}
	switch {
	case creds.Profile != "":
		_, err := s.UpdateConfig(func(cfg *config.Config) error {
			p, ok := cfg.Profiles[creds.Profile]
			if !ok || p.AccountSid != creds.AccountSid {
				return fmt.Errorf("profile %q changed while the token was reset", creds.Profile)
			}
			// The new secret goes where the old one was: the keyring (or,
			// if it no longer answers, the file, with a warning), or the file.
			cfg.Profiles[creds.Profile] = config.StoreSecret(s.Keyring, cfg.Path(), creds.Profile, p, secret, p.SecretIn != config.SecretInKeyring, errOut)
			return nil
		})
		if err != nil {
			return fmt.Errorf("the new Auth Token works but profile %q could not be updated: %w", creds.Profile, err)
		}
		iostreams.Infof(errOut, "verified the new Auth Token and updated profile %q", creds.Profile)
	case creds.SecretFile != "" && sameFile(creds.SecretFile, savedTo):
		iostreams.Infof(errOut, "verified the new Auth Token; %s names the file that now holds it", creds.SecretEnv)
	case creds.SecretEnv != "":
		iostreams.Infof(errOut, "verified the new Auth Token; this token came from the environment: update %s before the next command", creds.SecretEnv)
	}
	return nil
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// shellQuote quotes s for a POSIX shell, unless it needs no quotes.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./-+:@%,=", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
