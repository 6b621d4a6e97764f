package commands

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// helpTopic is a page of `impactctl help TOPIC` that is not a command.
type helpTopic struct {
	name, short, long string
}

var helpTopics = []helpTopic{
	{
		name:  "environment",
		short: "Environment variables impactctl reads",
		long: `Environment variables impactctl reads.

Credentials (they come as one unit: these, else a profile):

  IMPACTCTL_ACCOUNT_SID      the token's Account SID
  IMPACTCTL_AUTH_TOKEN       its Auth Token
  IMPACTCTL_AUTH_TOKEN_FILE  a file holding the Auth Token, instead of IMPACTCTL_AUTH_TOKEN
  IMPACTCTL_API_URL          where they are sent (default https://api.impact.com); a
                             profile's secret is never sent to another URL (exit 2)

  Setting only half of the pair exits 2, and so does --profile beside them.

Profiles and files:

  IMPACTCTL_PROFILE          the profile to use, instead of the one chosen with
                             auth switch (else "default"); --profile wins
  IMPACTCTL_CONFIG           the config file (default $XDG_CONFIG_HOME/impactctl/config.yaml)
  XDG_CONFIG_HOME            where the config directory is (default ~/.config)
  XDG_DATA_HOME              where --local keeps its database (default ~/.local/share)
  IMPACTCTL_KEYRING=off      keep profile secrets in the config file, never the OS keyring
  XDG_CACHE_HOME             where impactctl remembers whether a token with environment
                             credentials is an agency's or a brand's, so each command
                             spends only its own requests (default ~/.cache; no secrets)
  IMPACTCTL_LOCAL=1          the same as --local: the embedded demo server

Prompts and scripts:

  IMPACTCTL_NO_PROMPT=1      never ask (as --no-input): a change without --yes exits 3
  CI=true                    the same, as CI systems set it (also 1 or yes)
  GITHUB_ACTIONS=true        each secret impactctl prints, writes or hands off is first
                             announced with ::add-mask:: on stderr (stdout stays the data)
  NO_COLOR                   set to anything: no colour, not even from --template's color
  IMPACTCTL_NOW              an RFC 3339 time that --unused-for, --not-reset-for and
                             --template's timeago count back from, for reproducible reports
  IMPACTCTL_RETRY_WAIT       the wait between retries, a Go duration such as 200ms
  IMPACTCTL_CONNECT_TIMEOUT  how long an attempt may take to connect (default 10s)
  IMPACTCTL_HEADER_TIMEOUT   how long an attempt waits for the answer's headers (default 60s)
  IMPACTCTL_BODY_TIMEOUT     how long an answer's body may send no byte (default 30s)
  IMPACTCTL_REQUEST_TIMEOUT  how long one attempt may take in all, the answer's body
                             included (default 5m); the waits of one command for the
                             rate budget add up to an hour at most (then exit 8)
  IMPACTCTL_SECRET_SID       set by impactctl for a --secret-cmd: the SID of the secret
                             on the command's stdin

The server (impactctl serve):

  IMPACTCTL_DB               the database: a SQLite path or a postgres:// DSN, the place
                             for a DSN that holds a password
  IMPACTCTL_KEY_FILE         the key that encrypts secrets at rest
`,
	},
	{
		name:  "exit-codes",
		short: "What impactctl's exit codes mean",
		long: `What impactctl's exit codes mean. Scripts can rely on them; the API's
answers map to them the same way for every command, impactctl api included.

  0    ok, also "nothing to change"
  1    unexpected error
  2    bad usage or input; also the API's 400, 405, 413, 415 and 422
  3    needs confirmation (--yes) where none can be asked, or declined
  4    no credentials, or authentication failed (401), the token expired included
  5    forbidden (403): a disabled token or a missing scope
  6    not found (404)
  7    conflict (409), or a stale edit (412)
  8    rate limited, after retries
  9    server or network failure (5xx, no answer, a timeout)
  10   a command on several tokens where some failed (each has its result)
  11   changed, but a new secret could not be handed to --secret-cmd (tokens rotate: or not proven); wins over 10
  130  interrupted (Ctrl-C)

A retried delete that finds the token gone has succeeded (0).
`,
	},
	{
		name:  "formatting",
		short: "Output formats, --jq and --template",
		long: `Output formats, --jq and --template.

  -o table   for people (the default): on a terminal, aligned columns that fit its
             width (the least useful columns go first, then long names are cut
             with "…"; SIDs never); in a pipe, tab-separated rows with no header,
             no padding and every value whole (cut -f2 works)
  -o json    the API's resource shape; a list is a JSON array, written as pages arrive
  -o jsonl   one JSON object a line
  --jq EXPR  a jq expression on the JSON output; strings print raw, as jq -r
  --template TPL
             a Go template on the JSON output, with the API's field names

--jq and --template imply JSON; with -o jsonl they run on each item. In JSON modes
every line impactctl writes to stderr is a JSON object too, so a script reads both
streams the same way. Auth Tokens show as ••••1a2b unless --reveal; text from a
server is stripped of control and bidi characters before it reaches a terminal.

Template functions, besides Go's own (and, or, not, eq, len, index, printf, …):

%s
Examples:

  impactctl tokens list --jq '.[] | select(.State == "DISABLED") | .AccountSid'
  impactctl tokens list --template '{{range .}}{{tablerow .AccountSid .Name (timeago .DateLastUsed)}}{{end}}'
  impactctl tokens show "$SID" --template '{{.Name}}: {{join ", " .Scopes}}{{"\n"}}'
  impactctl tokens list --template '{{range .}}{{color "red+b" .State}} {{truncate 20 .Name}}{{"\n"}}{{end}}'
  impactctl users list --template '{{join "\n" (pluck "Email" .)}}{{"\n"}}'
`,
	},
}

// formattingFuncs lists the template functions for the formatting topic.
func formattingFuncs() string {
	var b strings.Builder
	for _, fn := range output.TemplateFuncs {
		fmt.Fprintf(&b, "  %s\n      %s\n", fn[0], fn[1])
	}
	return b.String()
}

// newHelpTopicCmds makes each topic a command that only holds text, as gh
// does: `impactctl help environment` and `impactctl environment` show it,
// and the root's help lists them as additional topics.
func newHelpTopicCmds() []*cobra.Command {
	var cmds []*cobra.Command
	for _, t := range helpTopics {
		long := t.long
		if t.name == "formatting" {
			long = fmt.Sprintf(long, formattingFuncs())
		}
		cmd := &cobra.Command{Use: t.name, Short: t.short, Long: long}
		cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
			fmt.Fprint(c.OutOrStdout(), c.Long)
		})
		cmds = append(cmds, cmd)
	}
	return cmds
}

// newHelpCmd replaces cobra's help command: an unknown command or topic is
// a usage error (exit 2) with suggestions, not the root's help and exit 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND | TOPIC]",
		Short: "Help about any command, or a topic: environment, exit-codes, formatting",
		Long: `Help about any command, or one of the topics: environment (the variables
impactctl reads), exit-codes and formatting (output formats, --jq, --template).`,
		Example: `  impactctl help tokens list
  impactctl help exit-codes
  impactctl help formatting`,
		ValidArgsFunction: completeHelp,
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil || len(rest) > 0 || (cmd == root && len(args) > 0) {
				return unknownHelpTopic(root, args)
			}
			return cmd.Help()
		},
	}
}

// unknownHelpTopic says which word of args names nothing, with the nearest
// commands or topics.
func unknownHelpTopic(root *cobra.Command, args []string) error {
	parent := root
	for i, a := range args {
		next := findSub(parent, a)
		if next == nil {
			msg := fmt.Sprintf("unknown help topic %q", strings.Join(args[:i+1], " "))
			if s := suggestCommands(parent, a); len(s) > 0 {
				msg += " (did you mean " + quoteJoin(s) + "?)"
			}
			return cmdutil.UsageErrorf("%s: run '%s help' for the commands and topics", msg, root.Name())
		}
		parent = next
	}
	return cmdutil.UsageErrorf("unknown help topic %q", strings.Join(args, " "))
}

// findSub is parent's subcommand named (or aliased) name, or nil.
func findSub(parent *cobra.Command, name string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}
