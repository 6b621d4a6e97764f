package contract

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		required bool
		max      int
		ok       bool
	}{
		{"plain", "CI deploys", true, MaxName, true},
		{"accents and emoji", "Café ☕ déploiements", true, MaxName, true},
		{"empty required", "  ", true, MaxName, false},
		{"empty optional", "", false, MaxDescription, true},
		{"too long", strings.Repeat("a", MaxName+1), true, MaxName, false},
		{"max exactly", strings.Repeat("é", MaxName), true, MaxName, true},
		{"invalid utf-8", "adm\xffin", true, MaxName, false},
		{"zero width space", "adm\u200bin", true, MaxName, false},
		{"byte order mark", "\ufeffadmin", true, MaxName, false},
		{"combining grapheme joiner", "a\u034fb", true, MaxName, false},
		{"hangul filler", "\u3164", true, MaxName, false},
		{"variation selector", "a\ufe0f", true, MaxName, false},
		{"bidi override", "abc\u202etxt.exe", true, MaxName, false},
		{"line separator", "a\u2028b", true, MaxName, false},
		{"escape", "a\x1b[31mb", true, MaxName, false},
		{"newline", "a\nb", false, MaxDescription, false},
		{"private use", "a\ue000", true, MaxName, false},
		{"unassigned", "a\U000e0080", true, MaxName, false},
		{"replacement character", "a\ufffdb", true, MaxName, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckText(tc.in, tc.required, tc.max)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckText(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"dev@example.com":                 true,
		"Dev <dev@example.com>":           false,
		"dev@":                            false,
		"dev@exa\u200bmple.com":           false,
		strings.Repeat("a", 251) + "@b.c": false,
		"user@[10.0.0.5]":                 false,
		"user@10.0.0.5":                   false,
		"user@intranet":                   false,
		"user@localhost":                  false,
		"user@app.localhost":              false,
		"user@LOCALHOST":                  false,
		"user@-bad.com":                   false,
		"user@bad-.com":                   false,
		"user@a..com":                     false,
		"user@a_b.com":                    false,
		"dev@mail.example.co.uk":          true,
		"dev@xn--bcher-kva.example":       true,
		"dev@bücher.example":              true,
		"first.last+tag@example.org":      true,
	} {
		if got := ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidSID(t *testing.T) {
	good := "IR" + strings.Repeat("aZ9", 10) + "ab"
	for in, want := range map[string]bool{
		good:                true,
		good[:33]:           false,
		"ir" + good[2:]:     false,
		good[:33] + "/":     false,
		good[:33] + "é"[:1]: false,
		"../../etc/passwd":  false,
	} {
		if got := ValidSID(in); got != want {
			t.Errorf("ValidSID(%q) = %v, want %v", in, got, want)
		}
	}
}
