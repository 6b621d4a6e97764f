package commands

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// completionBudget bounds the requests one completion makes: a shell waits
// for the answer, so a slow or dead server must not hold the prompt.
const completionBudget = 2 * time.Second

// isCompletionRequest reports whether args are a shell's request for
// completions (cobra's hidden __complete command).
func isCompletionRequest(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// completer answers the shell's completion requests. Values that come
// from the server are offered only when they have the shape the CLI takes
// (an Account SID, a numeric brand ID, an e-mail address, a scope name),
// so a server cannot put words of its choosing on the command line; names
// shown beside them are sanitised. Any failure offers nothing and says
// nothing: the shell's prompt is no place for errors.
type completer struct {
	f *Factory
}

// registerCompletions attaches completion functions to the tree by command
// path and flag name, and turns off file-name completion everywhere a file
// name makes no sense.
func registerCompletions(f *Factory, root *cobra.Command) {
	c := &completer{f: f}
	args, flags := c.argCompletions(), c.flagCompletions()
	// Flags whose value is a file name keep the shell's file completion.
	files := []string{"secret-file", "input", "db", "key-file", "ready-file"}

	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), root.Name()), " ")
		if fn, ok := args[path]; ok {
			cmd.ValidArgsFunction = fn
		} else if cmd.ValidArgsFunction == nil && len(cmd.ValidArgs) == 0 && !cmd.HasSubCommands() {
			cmd.ValidArgsFunction = cobra.NoFileCompletions
		}
		register := func(fl *pflag.Flag) {
			if _, done := cmd.GetFlagCompletionFunc(fl.Name); done || slices.Contains(files, fl.Name) {
				return
			}
			fn, ok := flags[fl.Name]
			if !ok {
				if fl.Value.Type() == "bool" {
					return
				}
				fn = cobra.NoFileCompletions
			}
			_ = cmd.RegisterFlagCompletionFunc(fl.Name, fn)
		}
		if cmd == root {
			cmd.PersistentFlags().VisitAll(register)
		}
		cmd.LocalNonPersistentFlags().VisitAll(register)
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// argCompletions completes the arguments of each command, by its path.
func (c *completer) argCompletions() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{
		"tokens show":        c.sids(1, ""),
		"tokens history":     c.sids(1, ""),
		"tokens edit":        c.sids(1, ""),
		"tokens reset":       c.sids(-1, ""),
		"tokens rotate":      c.sids(-1, client.StateEnabled),
		"tokens end-overlap": c.sids(1, ""),
		"tokens disable":     c.sids(-1, client.StateEnabled),
		"tokens enable":      c.sids(-1, client.StateDisabled),
		"tokens delete":      c.sids(-1, ""),
		"scopes set":         c.sidThen(c.catalogScopes),
		"scopes clear":       c.sids(1, ""),
		"scopes edit":        c.sids(1, ""),
		"contacts list":      c.sids(1, ""),
		"contacts add":       c.sidThen(c.userEmails),
		"contacts remove":    c.sidThen(c.tokenEmails),
		"auth switch":        c.firstArg(c.profiles),
		"api":                c.firstArg(c.apiPaths),
		"help":               completeHelp,
	}
}

// flagCompletions completes the values of the flags, by name.
func (c *completer) flagCompletions() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{
		"profile":         c.profiles,
		"output":          fixed("table\tfor people", "json\tthe API's JSON", "jsonl\tone JSON object a line"),
		"brand":           c.brands,
		"state":           fixed("enabled", "disabled"),
		"api-version":     c.apiVersions,
		"primary-contact": c.users,
		"scope":           c.catalogScopes,
		"add":             c.catalogScopes,
		"remove":          c.tokenScopes,
		"from":            c.sidFlag,
		"sid":             c.sidFlag,
		"actor":           c.sidFlag,
		"developer-email": c.userEmails,
		"unused-for":      fixed("30d", "90d", "180d", "365d"),
		"not-reset-for":   fixed("30d", "90d", "180d", "365d"),
		"expiring-within": fixed("1d", "7d", "14d", "30d"),
		"expires-in":      fixed("30d", "90d", "180d", "365d"),
		"overlap":         fixed("10m", "1h", "24h", "7d"),
		"timeout":         fixed("10s", "30s", "1m", "5m"),
		"method":          fixed(apiMethods...),
		"secret-dir":      dirsOnly,
	}
}

// fixed offers the same values whatever was typed.
func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

func dirsOnly(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// none is the answer when there is nothing to offer, or a failure.
func none() ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// firstArg completes the first argument with fn and nothing after it.
func (c *completer) firstArg(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return none()
		}
		return fn(cmd, args, toComplete)
	}
}

// sidThen completes a SID first, then fn for every later argument.
func (c *completer) sidThen(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return c.sids(1, "")(cmd, args, toComplete)
		}
		return fn(cmd, args, toComplete)
	}
}

// session is one completion's client and its time budget.
func (c *completer) session(cmd *cobra.Command) (context.Context, *client.Client, func(), bool) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionBudget)
	cl, err := c.f.Client(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, false
	}
	return ctx, cl, cancel, true
}

// sids completes Account SIDs from one page of the token list, with the
// tokens' names as descriptions, and the tokens' names (which the commands
// take as well), with their SIDs as descriptions. n is how many SID arguments the command
// takes (-1: any number; those already given are not offered again);
// state, when set, offers only tokens in that state.
func (c *completer) sids(n int, state client.State) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if n >= 0 && len(args) >= n {
			return none()
		}
		return c.listSIDs(cmd, state, args, toComplete)
	}
}

// sidFlag completes a flag that takes one SID (tokens create --from).
func (c *completer) sidFlag(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.listSIDs(cmd, "", nil, toComplete)
}

func (c *completer) listSIDs(cmd *cobra.Command, state client.State, given []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cl, cancel, ok := c.session(cmd)
	if !ok {
		return none()
	}
	defer cancel()
	var out, names []cobra.Completion
	named := map[string]int{}
	opts := client.TokenListOptions{State: state, ListOptions: client.ListOptions{PageSize: contract.MaxPageSize, Limit: contract.MaxPageSize}}
	var toks []*client.Token
	for t, err := range cl.Tokens(ctx, opts) {
		if err != nil {
			return none()
		}
		if !contract.ValidSID(t.AccountSid) {
			continue
		}
		toks = append(toks, t)
		named[contract.NormalName(t.Name)]++
	}
	for _, t := range toks {
		if slices.Contains(given, t.AccountSid) || slices.Contains(given, t.Name) {
			continue
		}
		if strings.HasPrefix(t.AccountSid, toComplete) {
			out = append(out, withDesc(t.AccountSid, t.Name))
		}
		if completableName(t.Name) && named[contract.NormalName(t.Name)] == 1 && strings.HasPrefix(t.Name, toComplete) {
			names = append(names, withDesc(t.Name, t.AccountSid))
		}
	}
	return append(out, names...), cobra.ShellCompDirectiveNoFileComp
}

// completableName reports whether a token name from the server may be
// offered as an argument: one the commands would take as that token's name
// (not of a SID's shape, valid text), shown as it is (nothing a terminal
// would interpret, no tab or line break, which cobra's protocol splits on),
// and not read as a flag. Names shared by several tokens are not offered:
// they name no single token. Spaces and quotes are left to the shell's
// script, which escapes what it inserts (bash with printf %q, zsh's compadd,
// fish's own quoting).
func completableName(name string) bool {
	return name != "" && !contract.ValidSID(name) && contract.CheckText(name, true, contract.MaxName) == nil &&
		output.Sanitize(name) == name && strings.TrimSpace(name) == name && !strings.HasPrefix(name, "-")
}

// withDesc joins a value and its description as cobra wants them, the
// description made safe for a terminal and kept short.
func withDesc(value, desc string) cobra.Completion {
	desc = output.Truncate(strings.TrimSpace(output.Sanitize(desc)), 60)
	if desc == "" {
		return value
	}
	return cobra.CompletionWithDesc(value, desc)
}

// scopePattern is the shape of a scope or category name.
var scopePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?$`)

// catalogScopes completes scope names and category.* from the catalog,
// leaving out the ones already given as arguments.
func (c *completer) catalogScopes(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cl, cancel, ok := c.session(cmd)
	if !ok {
		return none()
	}
	defer cancel()
	cat, err := cl.Scopes(ctx)
	if err != nil {
		return none()
	}
	var out []cobra.Completion
	add := func(id, desc string) {
		if scopePattern.MatchString(id) && strings.HasPrefix(id, toComplete) && !slices.Contains(args, id) {
			out = append(out, withDesc(id, desc))
		}
	}
	for _, cg := range cat.Categories {
		add(cg.Id+".*", "every scope of "+cg.Name)
		for _, s := range cg.Scopes {
			add(s.Id, s.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// tokenScopes completes --remove with the scopes the named token holds,
// or from the catalog before a SID is given.
func (c *completer) tokenScopes(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return c.catalogScopes(cmd, nil, toComplete)
	}
	tok, ok := c.token(cmd, args[0])
	if !ok {
		return none()
	}
	var out []cobra.Completion
	for _, s := range tok.Scopes {
		if scopePattern.MatchString(s) && strings.HasPrefix(s, toComplete) {
			out = append(out, s)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// token reads one token for a completion, named by SID or by name.
func (c *completer) token(cmd *cobra.Command, arg string) (*client.Token, bool) {
	if pipeline.CheckTokenArg(arg) != nil {
		return nil, false
	}
	ctx, cl, cancel, ok := c.session(cmd)
	if !ok {
		return nil, false
	}
	defer cancel()
	sid, err := pipeline.ResolveSID(ctx, cl, arg)
	if err != nil {
		return nil, false
	}
	tok, err := cl.Token(ctx, sid)
	return tok, err == nil
}

// tokenEmails completes `contacts remove SID` with the token's addresses.
func (c *completer) tokenEmails(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	tok, ok := c.token(cmd, args[0])
	if !ok {
		return none()
	}
	var out []cobra.Completion
	for _, e := range tok.DeveloperEmails {
		if contract.ValidEmail(e) && strings.HasPrefix(e, toComplete) && !slices.Contains(args[1:], e) {
			out = append(out, e)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// users completes a user by ID or e-mail (--primary-contact), the name as
// the description.
func (c *completer) users(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.listUsers(cmd, true, nil, toComplete)
}

// userEmails completes users' e-mail addresses, leaving out those given.
func (c *completer) userEmails(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var given []string
	if len(args) > 1 {
		given = args[1:]
	}
	return c.listUsers(cmd, false, given, toComplete)
}

func (c *completer) listUsers(cmd *cobra.Command, ids bool, given []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cl, cancel, ok := c.session(cmd)
	if !ok {
		return none()
	}
	defer cancel()
	var out []cobra.Completion
	for u, err := range cl.Users(ctx, client.ListOptions{PageSize: contract.MaxPageSize, Limit: contract.MaxPageSize}) {
		if err != nil {
			return none()
		}
		if ids && plainWord(u.Id) && strings.HasPrefix(u.Id, toComplete) {
			out = append(out, withDesc(u.Id, u.Name+" <"+u.Email+">"))
		}
		if contract.ValidEmail(u.Email) && plainWord(u.Email) && strings.HasPrefix(u.Email, toComplete) && !slices.Contains(given, u.Email) {
			out = append(out, withDesc(u.Email, u.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// plainWord reports whether s is short and holds only characters a shell
// takes as they are: letters, digits and . _ @ + -.
func plainWord(s string) bool {
	if s == "" || len(s) > contract.MaxEmailLength {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._@+-", r):
		default:
			return false
		}
	}
	return true
}

// brands completes --brand with the managed brands' IDs, their names as
// descriptions.
func (c *completer) brands(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cl, cancel, ok := c.session(cmd)
	if !ok {
		return none()
	}
	defer cancel()
	var out []cobra.Completion
	for a, err := range cl.Advertisers(ctx, client.ListOptions{PageSize: contract.MaxPageSize, Limit: contract.MaxPageSize}) {
		if err != nil {
			return none()
		}
		if isBrandID(a.Id) && strings.HasPrefix(a.Id, toComplete) {
			out = append(out, withDesc(a.Id, a.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// apiVersions completes --api-version: latest and, for `tokens edit SID`,
// the versions the token may go to; otherwise the versions of the token
// kind (agency or brand) that a new token may have.
func (c *completer) apiVersions(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := []cobra.Completion{"latest"}
	from, to := 0, 0
	if len(args) > 0 && contract.ValidSID(args[0]) {
		if tok, ok := c.token(cmd, args[0]); ok {
			from, to = tok.ApiVersion, max(tok.LatestApiVersion, tok.ApiVersion)
		}
	} else {
		ctx, cl, cancel, ok := c.session(cmd)
		if ok {
			defer cancel()
			kind, err := cl.Kind(ctx)
			switch {
			case err != nil:
			case kind == "brand" || cl.Brand() != "":
				from, to = 11, 14 // the Brand API's versions
			default:
				from, to = 2, 3 // the Agency API's versions
			}
		}
	}
	for v := from; v > 0 && v <= to; v++ {
		out = append(out, strconv.Itoa(v))
	}
	var match []cobra.Completion
	for _, v := range out {
		if strings.HasPrefix(v, toComplete) {
			match = append(match, v)
		}
	}
	return match, cobra.ShellCompDirectiveNoFileComp
}

// profiles completes the stored profile names, each with its URL. It reads
// the config file and sends nothing.
func (c *completer) profiles(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := c.f.Config()
	if err != nil {
		return none()
	}
	var out []cobra.Completion
	for _, name := range cfg.ProfileNames() {
		if strings.HasPrefix(name, toComplete) && !strings.ContainsAny(name, " \t\n") {
			out = append(out, withDesc(name, config.ProfileURL(cfg.Profiles[name])))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// apiPaths completes `api PATH` with the Token API's endpoints.
func (c *completer) apiPaths(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	paths := []string{
		"ApiTokens\tlist tokens (GET), create one (POST)",
		"ApiTokens/Current\tthe token in use",
		"ApiTokens/Disable\tdisable tokens in bulk",
		"ApiTokens/Enable\tenable tokens in bulk",
		"ApiTokens/Delete\tdelete tokens in bulk",
		"ApiTokens/Reset\treset tokens in bulk",
		"ApiScopes\tthe scope catalog",
		"Users\tthe account's users",
		"Advertisers\tthe managed brands",
		"CompanyInformation\tthe account",
	}
	var out []cobra.Completion
	for _, p := range paths {
		if strings.HasPrefix(p, strings.TrimPrefix(toComplete, "/")) {
			out = append(out, p)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeHelp completes `help` with commands and topics at any depth.
func completeHelp(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	parent := cmd.Root()
	for _, a := range args {
		if parent = findSub(parent, a); parent == nil {
			return none()
		}
	}
	var out []cobra.Completion
	for _, sub := range parent.Commands() {
		if sub.Hidden || sub.Name() == "help" || !strings.HasPrefix(sub.Name(), toComplete) {
			continue
		}
		if sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			out = append(out, withDesc(sub.Name(), sub.Short))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionExamples are the lines that load each shell's completion.
var completionExamples = map[string]string{
	"bash": `  source <(impactctl completion bash)
  impactctl completion bash > /etc/bash_completion.d/impactctl`,
	"zsh":        `  impactctl completion zsh > "${fpath[1]}/_impactctl"`,
	"fish":       `  impactctl completion fish > ~/.config/fish/completions/impactctl.fish`,
	"powershell": `  impactctl completion powershell | Out-String | Invoke-Expression`,
}

// addCompletionExamples gives `completion` and its shells their examples,
// and the bash script its fallback for shells without bash-completion.
func addCompletionExamples(cmd *cobra.Command) {
	cmd.Example = "  source <(impactctl completion bash)\n" + completionExamples["zsh"] + "\n" + completionExamples["fish"]
	for _, sub := range cmd.Commands() {
		sub.Example = completionExamples[sub.Name()]
		if sub.Name() == "bash" {
			sub.RunE = func(c *cobra.Command, _ []string) error {
				noDesc, _ := c.Flags().GetBool("no-descriptions")
				return writeBashCompletion(c.OutOrStdout(), c.Root(), !noDesc)
			}
		}
	}
}

// bashFallback replaces the word splitting of cobra's bash script where the
// bash-completion package is not loaded: without it the script calls
// _get_comp_words_by_ref, which only that package defines, and every TAB
// prints "command not found". The words are the command line up to the
// cursor split on blanks, so "--output=json" and "a:b" stay one word, as
// bash-completion's "-n =:" keeps them.
const bashFallback = `
# Without the bash-completion package: split the line up to the cursor on blanks.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
__impactctl_init_completion()
{
    COMPREPLY=()
    local line=${COMP_LINE:0:COMP_POINT}
    read -r -a words <<<"$line"
    if [[ -z $line || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    cword=$(( ${#words[@]} - 1 ))
    cur=${words[cword]}
    prev=""
    if (( cword > 0 )); then
        prev=${words[cword-1]}
    fi
}
fi
`

// writeBashCompletion writes cobra's bash script with bashFallback after it.
func writeBashCompletion(w io.Writer, root *cobra.Command, desc bool) error {
	if err := root.GenBashCompletionV2(w, desc); err != nil {
		return err
	}
	_, err := io.WriteString(w, bashFallback)
	return err
}
