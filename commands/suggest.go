package commands

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// suggestCommands returns parent's subcommands (help topics included) that
// typed is probably a typo of: within two edits, or typed is a prefix.
func suggestCommands(parent *cobra.Command, typed string) []string {
	var names []string
	for _, c := range parent.Commands() {
		if c.Hidden || c.Name() == "help" && typed != "help" && !strings.HasPrefix("help", typed) {
			continue
		}
		names = append(names, c.Name())
	}
	return nearest(typed, names)
}

// nearest returns the candidates within two edits of typed, or that typed
// is a prefix of, nearest first.
func nearest(typed string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	var near []scored
	lt := strings.ToLower(typed)
	for _, c := range candidates {
		d := editDistance(lt, strings.ToLower(c))
		if d <= 2 || (len(typed) > 1 && strings.HasPrefix(c, typed)) {
			near = append(near, scored{c, d})
		}
	}
	sort.SliceStable(near, func(i, j int) bool { return near[i].d < near[j].d })
	out := make([]string, len(near))
	for i, n := range near {
		out[i] = n.s
	}
	return out
}

// unknownCommand is the usage error for a word under parent that names no
// subcommand, with the nearest ones.
func unknownCommand(parent *cobra.Command, typed string) error {
	msg := fmt.Sprintf("unknown command %q for %q", typed, parent.CommandPath())
	if s := suggestCommands(parent, typed); len(s) > 0 {
		msg += "; did you mean " + quoteJoin(s) + "?"
	}
	return cmdutil.UsageErrorf("%s (see %s --help)", msg, parent.CommandPath())
}

// flagError turns pflag's refusal into a usage error; an unknown flag gets
// the command's nearest flags as suggestions (--unused: --unused-for).
func flagError(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedName() == "" {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	typed := ne.GetSpecifiedName()
	var names []string
	seen := map[string]bool{}
	collect := func(fl *pflag.Flag) {
		if !fl.Hidden && !seen[fl.Name] {
			seen[fl.Name] = true
			names = append(names, fl.Name)
		}
	}
	cmd.LocalFlags().VisitAll(collect)
	cmd.InheritedFlags().VisitAll(collect)
	s := nearest(typed, names)
	if len(s) == 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	for i := range s {
		s[i] = "--" + s[i]
	}
	return cmdutil.UsageErrorf("%w; did you mean %s?", err, strings.Join(s, ", "))
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, e := range s {
		q[i] = fmt.Sprintf("%q", e)
	}
	return strings.Join(q, ", ")
}
