package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// SplitCommand splits --secret-cmd's CMD into words as a POSIX shell would:
// blanks separate words; single quotes keep everything literally; double
// quotes keep everything but \" \\ \$ \` and \newline; a backslash outside
// quotes escapes the next character. Nothing else a shell does is done, so
// syntax that would mean something else to a shell (pipes, redirections,
// lists, expansions, globs, comments) is refused rather than passed on as
// text: `sh -c '…'` asks for a shell.
func SplitCommand(s string) ([]string, error) {
	return SplitWords(s, "--secret-cmd", `run a shell: --secret-cmd "sh -c '…'"`)
}

// SplitWords splits s as splitCommand does; a refusal names what (the flag
// or input that held s) and says what to do instead.
func SplitWords(s, what, instead string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false // a word has begun, even an empty quoted one
	refuse := func(problem string) ([]string, error) {
		return nil, cmdutil.UsageErrorf("%s %q: %s, which %s does not interpret; quote it, or %s", what, s, problem, what, instead)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\\':
			i++
			switch {
			case i == len(s):
				return refuse("it ends in a lone backslash")
			case s[i] == '\n':
				// A line continuation: nothing.
			default:
				w.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return refuse("a single quote is not closed")
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			end, problem := doubleQuoted(s, i+1, &w)
			if problem != "" {
				return refuse(problem)
			}
			i = end
			inWord = true
		case strings.IndexByte("|&;<>()$`", c) >= 0:
			return refuse(fmt.Sprintf("it holds %q (shell syntax)", c))
		case strings.IndexByte("*?[", c) >= 0:
			return refuse(fmt.Sprintf("it holds %q (a file name pattern)", c))
		case !inWord && (c == '#' || c == '~'):
			return refuse(fmt.Sprintf("a word starts with %q", c))
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, cmdutil.UsageErrorf("--secret-cmd is empty: name a command, such as \"gh secret set IMPACT_AUTH_TOKEN\"")
	}
	return words, nil
}

// doubleQuoted reads a double-quoted string of s from start, just past its
// opening quote, into w: a backslash escapes $ ` " \ and a newline, and an
// expansion is refused. It returns the index of the closing quote, or the
// problem that stops it.
func doubleQuoted(s string, start int, w *strings.Builder) (end int, problem string) {
	for i := start; i < len(s); i++ {
		switch d := s[i]; {
		case d == '"':
			return i, ""
		case d == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
			i++
			if s[i] != '\n' {
				w.WriteByte(s[i])
			}
		case d == '$' || d == '`':
			return i, fmt.Sprintf("it holds %q inside double quotes (an expansion)", d)
		default:
			w.WriteByte(d)
		}
	}
	return len(s), "a double quote is not closed"
}

// HandOff runs the --secret-cmd words once for one new secret: the secret
// and a newline on its stdin, IMPACTCTL_SECRET_SID in its environment, and
// neither IMPACTCTL_AUTH_TOKEN* variables nor any other holding inUse, the
// credential the command runs with (the credential in use is not its
// business: GitHub Actions keeps the action's input in INPUT_AUTH_TOKEN).
// Its own stdout and stderr go to out (impactctl's stderr), so nothing it
// prints can be mistaken for impactctl's data.
func HandOff(ctx context.Context, argv []string, sid, secret, inUse string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(secret + "\n")
	cmd.Stdout = out
	cmd.Stderr = out
	// Stopped (its --secret-cmd-timeout ran out), it gets a moment to close
	// its output; a child it left holding it does not keep us waiting.
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = ChildEnv(os.Environ(), sid, inUse)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return fmt.Errorf("%s: %s", argv[0], ee.ProcessState)
	case err != nil:
		return err
	}
	return nil
}

// ChildEnv is --secret-cmd's environment: environ without the variables that
// hold the credential in use (IMPACTCTL_AUTH_TOKEN*, and any whose value is
// inUse, blanks around it aside), and with IMPACTCTL_SECRET_SID.
func ChildEnv(environ []string, sid, inUse string) []string {
	inUse = strings.TrimSpace(inUse)
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IMPACTCTL_AUTH_TOKEN") || k == "IMPACTCTL_SECRET_SID" ||
			(inUse != "" && strings.TrimSpace(v) == inUse) {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "IMPACTCTL_SECRET_SID="+sid)
}
