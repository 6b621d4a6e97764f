package output

import (
	"bytes"
	"testing"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain, café, 日本, 👍🏽":                 "plain, café, 日本, 👍🏽",
		"two\nlines\tand tab":                 "two\nlines\tand tab",
		"evil\x1b]0;PWNED\a\x1b[31mRED\u202e": `evil\x1b]0;PWNED\x07\x1b[31mRED\u202e`,
		"cr\roverwrite":                       `cr\x0doverwrite`,
		"del\x7f c1\u009b31m":                 `del\x7f c1\u009b31m`,
		"sep\u2028\u2029 isolate\u2066":       `sep\u2028\u2029 isolate\u2066`,
		"bad \xff utf8":                       `bad \xff utf8`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueryOnTerminal: --jq and --template results are escaped on a terminal
// and byte-exact elsewhere; a template's own colours still reach the terminal.
func TestQueryOnTerminal(t *testing.T) {
	evil := "evil\x1b]0;PWNED\a\x1b[31mRED\u202e"
	doc := map[string]any{"Name": evil, "List": []any{evil}}
	shown := `evil\x1b]0;PWNED\x07\x1b[31mRED\u202e`
	for _, tc := range []struct {
		opts     Options
		terminal string
		pipe     string
	}{
		{Options{JQ: ".Name"}, shown + "\n", evil + "\n"},
		{Options{JQ: ".List[]"}, shown + "\n", evil + "\n"},
		{Options{JQ: `"G10wOw==" | @base64d`}, `\x1b]0;` + "\n", "\x1b]0;\n"},
		{Options{Template: "{{.Name}}\n"}, shown + "\n", evil + "\n"},
		{Options{Template: "{{range .List}}{{.}}{{end}}"}, shown, evil},
		{Options{Template: `{{color "red" "x"}}{{.Name}}`}, "\x1b[31mx\x1b[0m" + shown, "\x1b[31mx\x1b[0m" + evil},
	} {
		for _, term := range []bool{true, false} {
			var b bytes.Buffer
			o := tc.opts
			o.Terminal = term
			p, err := New(&b, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Object(doc); err != nil {
				t.Fatal(err)
			}
			want := tc.pipe
			if term {
				want = tc.terminal
			}
			if b.String() != want {
				t.Errorf("%+v, terminal %v: got %q, want %q", tc.opts, term, b.String(), want)
			}
		}
	}
}
