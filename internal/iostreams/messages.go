package iostreams

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/impactcom/impactctl/output"
)

// Levels of the messages impactctl writes to stderr. In JSON modes each
// message is one JSON object a line with its "Level".
const (
	LevelPlan     = "plan"
	LevelWarning  = "warning"
	LevelInfo     = "info"
	LevelProgress = "progress"
	LevelError    = "error"
)

// Messages is the one way to stderr. Every line is sanitised (text a server
// sent may hold escape sequences, whichever message carries it) and, in
// JSON modes (-o json|jsonl, --jq, --template), becomes one JSON object with
// a "Level". Only --debug writes past it, to raw.
type Messages struct {
	mu   sync.Mutex
	raw  io.Writer
	json func() bool
	// status is the status line drawn on a terminal (a bulk command's
	// progress), without a newline; "" when none is.
	status string
	// color marks "error:" red and "warning:" yellow: stderr is a
	// terminal and NO_COLOR is unset.
	color bool
}

// The colours of the prefixes of errors and warnings on a terminal.
const (
	ColorRed    = "\x1b[31m"
	ColorYellow = "\x1b[33m"
	ColorGreen  = "\x1b[32m"
	ColorReset  = "\x1b[0m"
)

// colorPrefix colours a line's "error:" or "warning:" prefix.
func colorPrefix(text string) string {
	for prefix, c := range map[string]string{"error:": ColorRed, "warning:": ColorYellow} {
		if rest, ok := strings.CutPrefix(text, prefix); ok {
			return c + prefix + ColorReset + rest
		}
	}
	return text
}

// Warnf writes a warning to stderr w: "warning: …" for people, an object
// with "Level":"warning" in JSON modes. With Infof, it is how commands
// write their messages; w is the IO.ErrOut that goes through messages.
func Warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "warning: "+format+"\n", a...)
}

// Infof writes a line of information to stderr w: the line for people, an
// object with "Level":"info" in JSON modes.
func Infof(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, format+"\n", a...)
}

// levelWriter is an io.Writer over messages whose lines get one level. A
// line of the info writer that starts "warning: " is a warning.
type levelWriter struct {
	m     *Messages
	level string
}

func (w levelWriter) Write(p []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	for s := string(p); s != ""; {
		line, rest, newline := strings.Cut(s, "\n")
		w.m.line(w.level, line, newline)
		s = rest
	}
	return len(p), nil
}

// line writes one line (or, without newline, a prompt) at level. The
// caller holds mu.
func (m *Messages) line(level, text string, newline bool) {
	text = output.Sanitize(text)
	if !m.json() {
		if m.color {
			text = colorPrefix(text)
		}
		if newline {
			text += "\n"
		}
		if m.status != "" {
			// Above the status line, which is drawn again below.
			text = ClearLine + text
			if newline {
				text += m.status
			}
		}
		io.WriteString(m.raw, text)
		return
	}
	if level == LevelInfo || level == LevelWarning {
		if rest, ok := strings.CutPrefix(text, "warning: "); ok {
			level, text = LevelWarning, rest
		}
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	m.object(level, map[string]string{"Message": text})
}

// object writes v, a JSON object, as one line with "Level" first. The
// caller holds mu, and has sanitised v's strings.
func (m *Messages) object(level string, v any) {
	b, err := json.Marshal(v)
	if err != nil || len(b) < 2 || b[0] != '{' {
		b, _ = json.Marshal(map[string]string{"Message": fmt.Sprint(v)})
	}
	lv, _ := json.Marshal(level)
	line := append([]byte(`{"Level":`), lv...)
	if len(b) > 2 {
		line = append(line, ',')
	}
	line = append(line, b[1:]...)
	m.raw.Write(append(line, '\n'))
}

// ClearLine returns a terminal's cursor to the start of the line and
// clears it.
const ClearLine = "\r\x1b[K"

// SetStatus draws s as a status line at the foot of stderr, a terminal,
// in place of the one before; "" clears it. Lines written meanwhile go
// above it.
func (m *Messages) SetStatus(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status = output.Sanitize(s)
	io.WriteString(m.raw, ClearLine+m.status)
}

// Say writes a message at level: a line for people, or in JSON modes an
// object {"Level":…,"Message":…}.
func (m *Messages) Say(level, format string, a ...any) {
	levelWriter{m: m, level: level}.Write([]byte(fmt.Sprintf(format, a...) + "\n"))
}

// NewMessages returns stderr's messages over raw: json reports whether a
// JSON mode is on, color whether prefixes are coloured.
func NewMessages(raw io.Writer, json func() bool, color bool) *Messages {
	return &Messages{raw: raw, json: json, color: color}
}

// Writer is an io.Writer whose lines become messages at level.
func (m *Messages) Writer(level string) io.Writer { return levelWriter{m: m, level: level} }

// JSON reports whether messages are JSON objects.
func (m *Messages) JSON() bool { return m.json() }

// DebugOut is stderr itself, past the sanitising: only --debug writes there.
func (m *Messages) DebugOut() io.Writer { return m.raw }

// WriteObject writes v, a JSON object whose strings are sanitised, as one
// line with "Level" first.
func (m *Messages) WriteObject(level string, v any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.object(level, v)
}

// WriteUnsanitized writes line as it is, above a terminal's status line,
// which is drawn again below. It is for the lines a tool reads off stderr
// (a GitHub Actions workflow command), never for text a server sent.
func (m *Messages) WriteUnsanitized(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status != "" {
		line = ClearLine + line + m.status
	}
	io.WriteString(m.raw, line)
}

// PassThrough runs fn with stderr itself, holding every other message back
// until it returns: a command's own output passed through as it is.
func (m *Messages) PassThrough(fn func(raw io.Writer) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn(m.raw)
}
