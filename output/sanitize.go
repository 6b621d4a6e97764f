package output

import "strings"

// Sanitize makes s safe to print into a terminal: it removes C0 and C1
// control characters (so ANSI escape sequences die together with their
// parameters), DEL, and the bidirectional controls that can make text
// display in another order than it is stored. Newlines, tabs and other
// line breaks become spaces. Invalid UTF-8 becomes U+FFFD.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			b.WriteByte(' ')
		case r == 0x1b: // ESC: drop the whole escape sequence
			i = skipEscape(rs, i)
		case r == 0x9b: // C1 CSI
			i = skipCSI(rs, i+1)
		case r == 0x9d: // C1 OSC
			i = skipString(rs, i+1)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		case isBidi(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isClean reports whether s needs no change, so the common case allocates
// nothing.
func isClean(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\uFFFD' || isBidi(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

func isBidi(r rune) bool {
	switch {
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	case r == '\u200E' || r == '\u200F' || r == '\u061C':
		return true
	}
	return false
}

// skipEscape returns the index of the last rune of the escape sequence
// starting with ESC at rs[i].
func skipEscape(rs []rune, i int) int {
	if i+1 >= len(rs) {
		return i
	}
	switch rs[i+1] {
	case '[':
		return skipCSI(rs, i+2)
	case ']', 'P', 'X', '^', '_':
		return skipString(rs, i+2)
	}
	if rs[i+1] >= 0x20 && rs[i+1] <= 0x7e {
		// Two-character sequence such as ESC c or ESC 7.
		return i + 1
	}
	return i
}

// skipCSI skips parameter and intermediate bytes and the final byte of a
// control sequence whose body starts at rs[j]. A sequence cut short by a
// character that cannot belong to it ends before that character.
func skipCSI(rs []rune, j int) int {
	for ; j < len(rs); j++ {
		r := rs[j]
		if r >= 0x30 && r <= 0x3f || r >= 0x20 && r <= 0x2f {
			continue
		}
		if r >= 0x40 && r <= 0x7e {
			return j
		}
		return j - 1
	}
	return len(rs) - 1
}

// skipString skips an OSC, DCS or similar string up to BEL or ESC \ (or
// the C1 string terminator). An unterminated string runs to the end.
func skipString(rs []rune, j int) int {
	for ; j < len(rs); j++ {
		switch rs[j] {
		case 0x07, 0x9c:
			return j
		case 0x1b:
			if j+1 < len(rs) && rs[j+1] == '\\' {
				return j + 1
			}
			return j - 1
		}
	}
	return len(rs) - 1
}

// Hint renders an AuthTokenHint as the last characters of a masked secret:
// "1a2b" becomes "••••1a2b". An empty hint stays empty.
func Hint(h string) string {
	if h == "" {
		return ""
	}
	return "••••" + h
}
