package output

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes s safe to print into a terminal while keeping every character
// visible: control characters other than newline and tab (ESC, BEL, CR, C1),
// DEL, the bidirectional controls and the Unicode line separators are shown
// as Go escapes ("\x1b", "\u202e"), and invalid UTF-8 as its bytes ("\xff").
// Newlines and tabs stay, so multi-line results keep their lines. Unlike
// Sanitize, which drops what a table cell cannot show, nothing is lost: a
// user reading --jq or --template results sees that a value holds them.
func Escape(s string) string {
	if isEscaped(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, isBidi(r), r == '\u2028', r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isEscaped reports whether Escape would leave s as it is.
func isEscaped(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return false
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidi(r) || r == '\u2028' || r == '\u2029':
			return false
		}
		i += n
	}
	return true
}

// escapeStrings returns a copy of a decoded JSON value whose strings, keys
// included, went through Escape.
func escapeStrings(v any) any {
	switch v := v.(type) {
	case string:
		return Escape(v)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[Escape(k)] = escapeStrings(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = escapeStrings(x)
		}
		return l
	}
	return v
}
