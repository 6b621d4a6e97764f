package cmdutil_test

import (
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"
)

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // 0: an error
	}{
		{"90d", 90 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"36h", 36 * time.Hour},
		{"90m", 0}, // minutes or months? refused
		{"3mo", 0},
		{"1h30m", 0},
		{" 7d ", 7 * 24 * time.Hour},
		{"0d", 0},
		{"0w", 0},
		{"0h", 0},
		{"-1d", 0},
		{"-2w", 0},
		{"-36h", 0},
		{"soon", 0},
		{"90", 0},
		{"d", 0},
		{"w", 0},
		{"1.5d", 0},
		{"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := cmdutil.ParseAge("--unused-for", tt.in)
			if tt.want == 0 {
				if cmdutiltest.CheckExit(t, err, cmdutil.ExitUsage) && !strings.Contains(err.Error(), "--unused-for") {
					t.Errorf("error %q does not name the flag", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseAge(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("parseAge(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2026-01-31T12:00:00Z", time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)},
		{"2026-01-31T12:00:00+02:00", time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)},
		{"2026-01-31T23:30:00-02:00", time.Date(2026, 2, 1, 1, 30, 0, 0, time.UTC)},
		{"garbage", time.Time{}},
		{"", time.Time{}},
		{"2026-02-30", time.Time{}},
		{"31/01/2026", time.Time{}},
		{"2026-01-31 12:00:00", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := cmdutil.ParseTime("--since", tt.in)
			if tt.want.IsZero() {
				if cmdutiltest.CheckExit(t, err, cmdutil.ExitUsage) && !strings.Contains(err.Error(), "--since") {
					t.Errorf("error %q does not name the flag", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("parseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("parseTime(%q) is in %v, want UTC", tt.in, got.Location())
			}
		})
	}
}

func TestFormatShortDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "never"},
		{"2026-01-31T12:00:00Z", "2026-01-31"},
		{"2026-01-31T23:30:00-02:00", "2026-02-01"},
		{"2026-02-01T00:30:00+02:00", "2026-01-31"},
		{"not a time", "not a time"},
		{"2026-01-31", "2026-01-31"},
	}
	for _, tt := range tests {
		if got := cmdutil.ShortDate(tt.in); got != tt.want {
			t.Errorf("shortDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		noun string
		want string
	}{
		{0, "token", "0 tokens"},
		{1, "token", "1 token"},
		{2, "token", "2 tokens"},
		{12, "scope", "12 scopes"},
		{1, "developer e-mail", "1 developer e-mail"},
	}
	for _, tt := range tests {
		if got := cmdutil.Plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
