package commands

import (
	"context"
	"errors"
	"fmt"
	stdio "io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// version is set at build time (-ldflags "-X github.com/impactcom/impactctl/commands.version=…").
var version = "dev"

// interruptGrace is how long a command has, after Ctrl-C or SIGTERM, to
// finish what it must (save a secret the server already issued) before Main
// returns without it.
const interruptGrace = 3 * time.Second

// Main runs impactctl with args (without the program name) on the given
// streams and returns the process exit code.
func Main(args []string, io *iostreams.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	run := newRunState(args)
	if run.completing {
		// A shell asking for completions shows stdout only; nothing of
		// ours, or cobra's, belongs on its terminal.
		quiet := *io
		quiet.ErrOut = stdio.Discard
		io = &quiet
	}
	f := newFactory(io, version, run)
	defer run.close()
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)

	type outcome struct {
		cmd *cobra.Command
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		cmd, err := root.ExecuteContextC(ctx)
		done <- outcome{cmd, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		// A second Ctrl-C now ends the process at once; a command that
		// does not stop by itself within the grace period is left behind.
		stop()
		select {
		case out = <-done:
		case <-time.After(interruptGrace):
			interrupted(f)
			return cmdutil.ExitInterrupted
		}
	}
	cmd, err := out.cmd, out.err
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		code = cmdutil.ExitInterrupted
	}
	if !run.ran && code == cmdutil.ExitUnexpected {
		// cobra's own refusals (unknown command, wrong arguments) come
		// before any command runs.
		code = cmdutil.ExitUsage
	}
	if code == cmdutil.ExitInterrupted && errors.Is(err, context.Canceled) && !errors.As(err, new(*cmdutil.ExitError)) {
		interrupted(f)
		return code
	}
	usage := ""
	if code == cmdutil.ExitUsage && cmd != nil && !run.ran {
		usage = fmt.Sprintf("Run '%s --help' for usage.", cmd.CommandPath())
	}
	printError(f, err, code, usage)
	return code
}

// interrupted says the command was interrupted: "interrupted", or in JSON
// modes an error object with Code "interrupted" and exit code 130.
func interrupted(f *Factory) {
	if f.run.jsonMode() {
		printError(f, errors.New("interrupted"), cmdutil.ExitInterrupted, "")
		return
	}
	f.run.msgs.Say(iostreams.LevelError, "interrupted")
}

// errorHint tells the user what to check next, by exit code.
func errorHint(f *Factory, err error) string {
	if f.run.budget != nil && f.run.budget.Err() == context.DeadlineExceeded && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("the command's --timeout of %s ran out before it finished (a change already sent may have been made: check with tokens show)", f.opts.Timeout)
	}
	creds := f.creds
	var ae *client.APIError
	if !errors.As(err, &ae) {
		var ne *client.NetworkError
		if errors.As(err, &ne) && creds != nil {
			return unreachableHint(creds)
		}
		return ""
	}
	switch ae.StatusCode {
	case 401:
		switch {
		case ae.Code == contract.CodeTokenExpired && creds != nil:
			return fmt.Sprintf("the token in use (%s) has expired: another token with apitokens.write can give it a new expiry with `impactctl tokens edit %s --expires-in 90d`", creds.AccountSid, creds.AccountSid)
		case ae.Code == contract.CodeTokenExpired:
			return "the token has expired: another token can give it a new expiry with `impactctl tokens edit SID --expires-in 90d`"
		case creds == nil:
			return "check the Account SID and the Auth Token"
		case creds.FromEnvironment():
			return fmt.Sprintf("the credentials in IMPACTCTL_ACCOUNT_SID and %s were refused: check both; the token may have been reset or deleted", creds.SecretEnv)
		case creds.Profile != "":
			return fmt.Sprintf("the credentials of profile %q were refused: the token may have been reset or deleted; store new ones with `impactctl auth login --profile %s`", creds.Profile, creds.Profile)
		}
		return "the Account SID and Auth Token were refused: check both"
	case 403:
		switch ae.Code {
		case contract.CodeTokenDisabled:
			if f.settings.localMode() {
				return "the embedded server's admin token is disabled: remove local.db from $XDG_DATA_HOME/impactctl to start afresh"
			}
			if creds != nil {
				return fmt.Sprintf("the token in use (%s) is disabled: another token can enable it with `impactctl tokens enable %s`", creds.AccountSid, creds.AccountSid)
			}
			return "the token is disabled"
		case contract.CodePreviousSecret:
			return "this command runs on the token's previous Auth Token (an overlapping reset replaced it), which may not change its own token: use the new Auth Token"
		case contract.CodeEscalation:
			return "a token cannot grant a scope it lacks, nor change a token holding scopes it lacks: use a token that holds them"
		case contract.CodeMissingScope:
			if scope := ae.Scope; printableScope(scope) && creds != nil {
				return fmt.Sprintf("the token in use (%s) lacks %s: a token holding it can grant it with `impactctl scopes set %s --add %s`", creds.AccountSid, scope, creds.AccountSid, scope)
			}
		}
		return "the token in use lacks a scope this needs"
	case 404:
		if f.opts.Brand != "" {
			return fmt.Sprintf("check brand %s and the SID: `impactctl brands list` shows the brands this agency manages", f.opts.Brand)
		}
	case 429:
		if ae.RetryAfter > 0 {
			return fmt.Sprintf("rate limited: the token's request budget refills in %s; try again then", ae.RetryAfter.Round(time.Second))
		}
		return "rate limited: wait for the token's request budget to refill and try again"
	}
	return ""
}

// unreachableHint says what to check when the server did not answer, and how
// to follow it if it moved: a profile keeps its own URL (no --api-url beside
// it), so a moved server means logging in again with the new one.
func unreachableHint(creds *config.Credentials) string {
	hint := fmt.Sprintf("check that the Token API at %s is reachable (the server may be down)", creds.APIURL)
	switch {
	case creds.Profile != "":
		login := "impactctl auth login"
		if creds.Profile != "default" {
			login += " --profile " + creds.Profile
		}
		return hint + fmt.Sprintf("; if it moved, store its new address in profile %q with `%s --api-url NEW_URL`", creds.Profile, login)
	case creds.FromEnvironment():
		return hint + "; if it moved, set IMPACTCTL_API_URL (or --api-url) to its new address"
	}
	return hint
}

// printableScope reports whether a scope a server named is fit to print in a
// command line: a catalog scope is lower-case letters, digits, '.', '_', '-' and '*'.
func printableScope(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune("._-*", c)) {
			return false
		}
	}
	return true
}

// newRootCmd builds the whole command tree.
func newRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "impactctl",
		Short: "Manage impact.com API access tokens from the shell",
		Long: `impactctl manages API access tokens on the impact.com platform: list and read
them, edit them, reset their secret, disable, enable and delete them, set their
API scopes and the developer e-mail addresses told about changes.

Every change shows what will change and asks, or proceeds with --yes.
Try it with no account at all: impactctl --local tokens list`,
		Example: `  impactctl --local tokens list
  SID=$(impactctl tokens list --name deploy --limit 1 --jq '.[0].AccountSid')
  impactctl tokens show "$SID"
  impactctl help environment`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			f.run.ran = true
			return prepare(f, cmd)
		},
	}
	root.SetFlagErrorFunc(flagError)

	fl := root.PersistentFlags()
	fl.StringVar(&f.opts.Profile, "profile", "", "credentials profile to use (default \"default\", or IMPACTCTL_PROFILE)")
	fl.StringVar(&f.opts.APIURL, "api-url", "", "Token API URL (or IMPACTCTL_API_URL; default "+config.DefaultAPIURL+")")
	fl.BoolVar(&f.opts.Local, "local", false, "run against the embedded demo server (or IMPACTCTL_LOCAL=1)")
	fl.StringVar(&f.opts.Brand, "brand", "", "act on a managed brand's tokens (its Advertiser ID or exact name)")
	fl.StringVarP(&f.opts.Output, "output", "o", "table", "output format: table, json or jsonl")
	fl.StringVarP(&f.opts.JQ, "jq", "q", "", "filter JSON output with a jq expression")
	fl.StringVarP(&f.opts.Template, "template", "t", "", "format JSON output with a Go template")
	fl.BoolVarP(&f.opts.Yes, "yes", "y", false, "answer yes to every confirmation")
	fl.BoolVar(&f.opts.NoInput, "no-input", false, "never prompt (or IMPACTCTL_NO_PROMPT=1, CI=true)")
	fl.BoolVar(&f.opts.Debug, "debug", false, "log requests to stderr (secrets redacted)")
	fl.DurationVar(&f.opts.Timeout, "timeout", 0, "budget for the whole command, retries and waits included (e.g. 30s; 0 = none)")
	_ = f.v.BindPFlag("profile", fl.Lookup("profile"))

	root.AddCommand(
		newAccountCmd(f),
		newAuthCmd(f),
		newBrandsCmd(f),
		newUsersCmd(f),
		newTokensCmd(f),
		newScopesCmd(f),
		newContactsCmd(f),
		newAuditCmd(f),
		newServeCmd(f, nil),
		newAdminCmd(f),
		newVersionCmd(f, nil),
		newAPICmd(f, nil),
		newSplitCmd(f, nil),
	)
	root.AddCommand(newHelpTopicCmds()...)
	root.SetHelpCommand(newHelpCmd())
	root.Version = versionText(f.Version)
	root.SetVersionTemplate("impactctl {{.Version}}\n")
	root.Flags().Bool("version", false, "print impactctl's version")
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		// `completion tcsh` is a usage error, not help and exit 0.
		c.RunE = runGroup
		addCompletionExamples(c)
	}
	if f.run.completing {
		registerCompletions(f, root)
	}
	return root
}

// prepare validates the global flags before a command runs, and sets up
// the run's --timeout and printer.
func prepare(f *Factory, cmd *cobra.Command) error {
	if f.opts.NoInput || isTrue(f.v.GetString("no_prompt")) || isTrue(f.getenv("CI")) {
		f.IO.SetNeverPrompt(true)
	}
	switch f.opts.Output {
	case "table", "json", "jsonl":
	default:
		return cmdutil.UsageErrorf("invalid --output %q: use table, json or jsonl", f.opts.Output)
	}
	if cmd.Flags().Changed("output") && f.opts.Output == "table" && (f.opts.JQ != "" || f.opts.Template != "") {
		return cmdutil.UsageErrorf("--jq and --template work on JSON: drop -o table")
	}
	if f.settings.localMode() && (f.opts.APIURL != "" || f.opts.Profile != "") {
		return cmdutil.UsageErrorf("--local uses the embedded server and its admin token: drop --api-url and --profile")
	}
	if f.opts.Brand != "" && !isBrandID(f.opts.Brand) && !validBrandName(f.opts.Brand) {
		return cmdutil.UsageErrorf("invalid --brand %q: expected a brand's Advertiser ID or its exact name (see impactctl brands list)", f.opts.Brand)
	}
	if f.opts.Timeout < 0 {
		return cmdutil.UsageErrorf("invalid --timeout %s: must not be negative", f.opts.Timeout)
	}
	if f.opts.Timeout > 0 {
		ctx, cancel := context.WithTimeout(cmd.Context(), f.opts.Timeout)
		f.run.cleanups = append(f.run.cleanups, cancel)
		cmd.SetContext(ctx)
		f.run.budget = ctx
	}
	p, err := output.New(f.IO.Out, output.Options{
		Format:   f.opts.Output,
		JQ:       f.opts.JQ,
		Template: f.opts.Template,
		Context:  cmd.Context(),
		Color:    f.IO.IsStdoutTTY(),
		NoColor:  f.getenv("NO_COLOR") != "",
		Now:      templateNow(f.Now),
		Terminal: f.IO.IsStdoutTTY(),
	})
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	f.run.printer = p
	return nil
}

func isBrandID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isTrue reads a boolean environment variable as CI systems set them.
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// templateNow is the clock --template's timeago counts from: IMPACTCTL_NOW
// when set (a bad value is reported by the commands that read it), else
// the time of day.
func templateNow(now func() (time.Time, error)) func() time.Time {
	return func() time.Time {
		if t, err := now(); err == nil {
			return t
		}
		return time.Now()
	}
}
