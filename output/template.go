package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// TemplateFuncs names the functions --template offers besides Go's own,
// with what each does, for the help text.
var TemplateFuncs = [][2]string{
	{"autocolor STYLE VALUE", "like color, but only on a terminal"},
	{"color STYLE VALUE", `colour text: a colour (black, red, green, yellow, blue, magenta, cyan, white), then +b bold, +u underline, +i inverse, +h bright, and :COLOUR for the background, as in "red+b" or "white:blue"; nothing when NO_COLOR is set`},
	{"hint VALUE", "an AuthTokenHint as the tables show it: ••••1a2b"},
	{"join SEP LIST", "the list's values joined with SEP"},
	{"json VALUE", "the value as compact JSON"},
	{"pluck FIELD LIST", "the FIELD of each object in LIST"},
	{"tablerow VALUE...", "add a row to a table whose columns are aligned when the template ends (or at tablerender)"},
	{"tablerender", "write the rows added so far as an aligned table"},
	{"timeago TIME", `how long ago a time was: "about 3 days ago"; "never" for null`},
	{"timefmt LAYOUT TIME", `a time in a Go layout, as "2006-01-02"; "" for null`},
	{"truncate N VALUE", "the value cut to N characters, ending in …"},
}

// funcs returns the template functions bound to p: the clock timeago
// counts from, whether colour is wanted, the rows tablerow collects.
func (p *Printer) funcs() template.FuncMap {
	return template.FuncMap{
		"autocolor": func(style string, v any) (string, error) {
			if !p.color {
				return scalar(v), nil
			}
			return colorize(style, scalar(v))
		},
		"color": func(style string, v any) (string, error) {
			if p.noColor {
				return scalar(v), nil
			}
			return colorize(style, scalar(v))
		},
		"hint": func(v any) string {
			if v == nil {
				return ""
			}
			return Hint(fmt.Sprint(v))
		},
		"join": func(sep string, v any) string {
			switch l := v.(type) {
			case []any:
				s := make([]string, len(l))
				for i, e := range l {
					s[i] = scalar(e)
				}
				return strings.Join(s, sep)
			case []string:
				return strings.Join(l, sep)
			case nil:
				return ""
			}
			return scalar(v)
		},
		"json": func(v any) (string, error) {
			b, err := marshal(v, "", "")
			return string(b), err
		},
		"pluck": func(field string, v any) ([]any, error) {
			l, ok := v.([]any)
			if !ok && v != nil {
				return nil, fmt.Errorf("pluck: expected a list, got %s", kind(v))
			}
			out := make([]any, 0, len(l))
			for _, e := range l {
				if m, ok := e.(map[string]any); ok {
					out = append(out, m[field])
				}
			}
			return out, nil
		},
		"tablerow": func(v ...any) string {
			row := make([]string, len(v))
			for i, e := range v {
				row[i] = scalar(e)
			}
			p.rows = append(p.rows, row)
			return ""
		},
		"tablerender": func() (string, error) {
			return p.renderRows()
		},
		"timeago": func(v any) (string, error) {
			t, ok, err := timeOf(v)
			if err != nil || !ok {
				return "never", err
			}
			return fuzzyAgo(p.now(), t), nil
		},
		"timefmt": func(layout string, v any) (string, error) {
			t, ok, err := timeOf(v)
			if err != nil || !ok {
				return "", err
			}
			return t.Format(layout), nil
		},
		"truncate": func(n int, v any) string {
			return Truncate(scalar(v), n)
		},
	}
}

// renderRows writes the rows tablerow collected as a table, as any table
// is written (aligned on a terminal, tab-separated in a pipe), and forgets
// them.
func (p *Printer) renderRows() (string, error) {
	if len(p.rows) == 0 {
		return "", nil
	}
	// On a terminal the rows are aligned and fit it; in a pipe they are
	// tab-separated, as every table is.
	var buf interface {
		io.Writer
		String() string
	} = &bytes.Buffer{}
	if isTerm, width := terminal(p.w); isTerm {
		buf = &sizedBuffer{width: width}
	}
	t := NewTable(buf)
	for _, r := range p.rows {
		t.Row(r...)
	}
	p.rows = nil
	if err := t.Render(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// sizedBuffer is a buffer that reports the width of the terminal its
// contents are bound for.
type sizedBuffer struct {
	bytes.Buffer
	width int
}

func (b *sizedBuffer) TerminalWidth() int { return b.width }

// scalar shows a JSON value in text: strings as they are, null as "",
// anything else as JSON.
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any, map[string]any:
		b, _ := marshal(v, "", "")
		return string(b)
	}
	return fmt.Sprint(v)
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// timeOf reads an API timestamp; ok is false for null or "".
func timeOf(v any) (time.Time, bool, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case string:
		if v == "" {
			return time.Time{}, false, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("not an RFC 3339 time: %q", v)
		}
		return t, true, nil
	case time.Time:
		return v, true, nil
	}
	return time.Time{}, false, fmt.Errorf("not a time: %s", kind(v))
}

// fuzzyAgo says how long before now t was, as gh does.
func fuzzyAgo(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in the future"
	}
	about := func(n int, unit string) string {
		if n != 1 {
			unit += "s"
		}
		return fmt.Sprintf("about %d %s ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "less than a minute ago"
	case d < time.Hour:
		return about(int(d.Minutes()), "minute")
	case d < 24*time.Hour:
		return about(int(d.Hours()), "hour")
	case d < 30*24*time.Hour:
		return about(int(d.Hours())/24, "day")
	case d < 365*24*time.Hour:
		return about(int(d.Hours())/24/30, "month")
	}
	return about(int(d.Hours())/24/365, "year")
}

// ansiColors are the colour names color takes, in ANSI order.
var ansiColors = []string{"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"}

// colorize wraps s in the ANSI codes of style: "red", "green+b",
// "white+h:blue".
func colorize(style, s string) (string, error) {
	fg, bg, _ := strings.Cut(style, ":")
	var codes []string
	part := func(spec string, base int) error {
		name, attrs, _ := strings.Cut(spec, "+")
		bright := strings.Contains(attrs, "h")
		if name != "" && name != "default" {
			i := indexOf(ansiColors, name)
			if i < 0 {
				return fmt.Errorf("color: unknown colour %q: use one of %s", name, strings.Join(ansiColors, ", "))
			}
			if bright {
				i += 60
			}
			codes = append(codes, strconv.Itoa(base+i))
		}
		for _, a := range attrs {
			switch a {
			case 'b':
				codes = append(codes, "1")
			case 'u':
				codes = append(codes, "4")
			case 'i':
				codes = append(codes, "7")
			case 'h':
			default:
				return fmt.Errorf("color: unknown attribute %q in %q: use b, u, i or h", a, style)
			}
		}
		return nil
	}
	if err := part(fg, 30); err != nil {
		return "", err
	}
	if bg != "" {
		if err := part(bg, 40); err != nil {
			return "", err
		}
	}
	if len(codes) == 0 {
		return s, nil
	}
	return "\x1b[" + strings.Join(codes, ";") + "m" + s + "\x1b[0m", nil
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}
