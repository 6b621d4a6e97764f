package commands

import (
	"strings"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// jsonMode reports whether stderr speaks JSON: -o json|jsonl, --jq or
// --template, read from the parsed flags, or from the raw arguments when
// cobra refused them before they were all parsed.
func (s *runState) jsonMode() bool {
	if s.printer != nil {
		return !s.printer.Table()
	}
	o := s.opts
	return o.Output == "json" || o.Output == "jsonl" || o.JQ != "" || o.Template != "" || (!s.ran && s.argsJSON)
}

// jsonInArgs reports whether raw command-line arguments ask for a JSON
// mode, the last -o/--output winning as it does when they parse.
func jsonInArgs(args []string) bool {
	format, query := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "--":
			return format == "json" || format == "jsonl" || query
		case a == "--output":
			format = next()
		case strings.HasPrefix(a, "--output="):
			format = strings.TrimPrefix(a, "--output=")
		case a == "--jq" || a == "--template":
			query = next() != "" || query
		case strings.HasPrefix(a, "--jq=") || strings.HasPrefix(a, "--template="):
			_, v, _ := strings.Cut(a, "=")
			query = v != "" || query
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			// Shorthands: -o json, -ojson, -o=json, -yo json.
			letters := a[1:]
			for j := 0; j < len(letters); j++ {
				if letters[j] != 'o' {
					continue
				}
				if v := strings.TrimPrefix(letters[j+1:], "="); v != "" {
					format = v
				} else {
					format = next()
				}
				break
			}
		}
	}
	return format == "json" || format == "jsonl" || query
}

// printError writes err to stderr: "error: …" and a hint for people, or in
// JSON modes one object with "Level":"error", the API's error object (or,
// for errors the CLI found, its own "Code"), and "ExitCode".
func printError(f *Factory, err error, code int, usage string) {
	hint := errorHint(f, err)
	m := f.run.msgs
	if !f.run.jsonMode() {
		msg := err.Error()
		if hint != "" {
			msg += "\n" + hint
		}
		m.Say(iostreams.LevelError, "error: %s", msg)
		if usage != "" {
			m.Say(iostreams.LevelError, "%s", usage)
		}
		return
	}
	m.WriteObject(iostreams.LevelError, cmdutil.ErrorObject(err, code, hint))
}
