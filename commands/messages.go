package commands

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
	levelPlan     = "plan"
	levelWarning  = "warning"
	levelInfo     = "info"
	levelProgress = "progress"
	levelError    = "error"
)

// messages is the one way to stderr. Every line is sanitised (text a server
// sent may hold escape sequences, whichever message carries it) and, in
// JSON modes (-o json|jsonl, --jq, --template), becomes one JSON object with
// a "Level". Only --debug writes past it, to raw.
type messages struct {
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
	colorRed    = "\x1b[31m"
	colorYellow = "\x1b[33m"
	colorGreen  = "\x1b[32m"
	colorReset  = "\x1b[0m"
)

// colorPrefix colours a line's "error:" or "warning:" prefix.
func colorPrefix(text string) string {
	for prefix, c := range map[string]string{"error:": colorRed, "warning:": colorYellow} {
		if rest, ok := strings.CutPrefix(text, prefix); ok {
			return c + prefix + colorReset + rest
		}
	}
	return text
}

// warnf writes a warning to stderr w: "warning: …" for people, an object
// with "Level":"warning" in JSON modes. With infof, it is how commands
// write their messages; w is the IO.ErrOut that goes through messages.
func warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "warning: "+format+"\n", a...)
}

// infof writes a line of information to stderr w: the line for people, an
// object with "Level":"info" in JSON modes.
func infof(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, format+"\n", a...)
}

// levelWriter is an io.Writer over messages whose lines get one level. A
// line of the info writer that starts "warning: " is a warning.
type levelWriter struct {
	m     *messages
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
func (m *messages) line(level, text string, newline bool) {
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
			text = clearLine + text
			if newline {
				text += m.status
			}
		}
		io.WriteString(m.raw, text)
		return
	}
	if level == levelInfo || level == levelWarning {
		if rest, ok := strings.CutPrefix(text, "warning: "); ok {
			level, text = levelWarning, rest
		}
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	m.object(level, map[string]string{"Message": text})
}

// object writes v, a JSON object, as one line with "Level" first. The
// caller holds mu, and has sanitised v's strings.
func (m *messages) object(level string, v any) {
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

// clearLine returns a terminal's cursor to the start of the line and
// clears it.
const clearLine = "\r\x1b[K"

// setStatus draws s as a status line at the foot of stderr, a terminal,
// in place of the one before; "" clears it. Lines written meanwhile go
// above it.
func (m *messages) setStatus(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status = output.Sanitize(s)
	io.WriteString(m.raw, clearLine+m.status)
}

// say writes a message at level: a line for people, or in JSON modes an
// object {"Level":…,"Message":…}.
func (m *messages) say(level, format string, a ...any) {
	levelWriter{m: m, level: level}.Write([]byte(fmt.Sprintf(format, a...) + "\n"))
}
