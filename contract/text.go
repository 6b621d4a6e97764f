package contract

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TextError says why a string field was refused. Its message is lower-case and names
// no field: callers put the field in front.
type TextError struct {
	Reason string
}

func (e *TextError) Error() string { return e.Reason }

func textErrorf(format string, args ...any) *TextError {
	return &TextError{Reason: fmt.Sprintf(format, args...)}
}

// CheckText refuses a string field's value: empty when required, longer than max
// characters, invalid UTF-8, or holding a character that does not show as itself
// (see VisibleRune).
func CheckText(s string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return textErrorf("must not be empty")
	}
	if !utf8.ValidString(s) {
		return textErrorf("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return textErrorf("must be at most %d characters (got %d)", max, n)
	}
	return CheckRunes(s)
}

// CheckRunes refuses a string holding a character VisibleRune rejects, naming it.
func CheckRunes(s string) error {
	for _, r := range s {
		if !VisibleRune(r) {
			return textErrorf("must not contain the invisible or control character U+%04X", r)
		}
	}
	return nil
}

// VisibleRune reports whether r may appear in a string field. Refused: control (Cc),
// format (Cf, which holds the bidi controls, U+200B and U+FEFF), line and paragraph
// separators (Zl, Zp), private-use (Co), unassigned (Cn) and default-ignorable code
// points (U+034F, U+3164, variation selectors, …): each can make one name look like
// another.
func VisibleRune(r rune) bool {
	if r == utf8.RuneError || !utf8.ValidRune(r) {
		return r == utf8.RuneError // U+FFFD itself is a visible symbol; surrogates are not runes
	}
	if unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r) {
		return false
	}
	// Everything assigned and visible is a letter, mark, number, punctuation, symbol or
	// space separator; Cc, Cf, Co, Cn, Zl and Zp are in none of these.
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs)
}

// ValidEmail reports whether s is one bare e-mail address ("dev@example.com", no
// display name, no angle brackets) of at most MaxEmailLength bytes, on a domain a
// public mail server can deliver to (see ValidMailDomain).
func ValidEmail(s string) bool {
	if len(s) > MaxEmailLength || strings.ContainsAny(s, " \t\r\n<>\",") || CheckRunes(s) != nil {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && ValidMailDomain(domain)
}

// ValidMailDomain reports whether domain names a host on the public mail system: at
// least two labels ("example.com", not "intranet"), each made of letters, digits and
// inner hyphens, a last label that is not all digits, and not localhost. Address
// literals ("[10.0.0.5]") and bare IP addresses are refused: updates must not be
// steerable at a server's own network.
func ValidMailDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return false
	}
	return !strings.EqualFold(tld, "localhost")
}

// NormalName answers the form token names are compared in: Unicode NFC. Names
// are stored as sent; an exact-name match compares both sides in this form.
func NormalName(s string) string { return norm.NFC.String(s) }

// NameLikeSID reports whether a token name, in NFC form, reads as an Account SID.
// Such a name is refused: where a SID or a name may be given, an argument of the
// SID's shape is always a SID.
func NameLikeSID(name string) bool { return ValidSID(NormalName(name)) }

// ValidSID reports whether s is an Account SID: "IR" and 32 ASCII letters or digits.
func ValidSID(s string) bool {
	if len(s) != 34 || s[0] != 'I' || s[1] != 'R' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
