package commands

import (
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"dev@example.com", true},
		{"a.b+tag@sub.example.co.uk", true},
		{"a@b.c", true},
		{"Ada <a@b.c>", false},
		{"<a@b.c>", false},
		{"a@b", false}, // as the server: a single-label domain is not on the public mail system
		{"a@[10.0.0.5]", false},
		{"a@localhost", false},
		{"not-an-address", false},
		{"a@b.c.", false},
		{"dev@exa\u200bmple.com", false},
		{" a@b.c", false},
		{"", false},
		{"a@b.c, d@e.f", false},
		{"a@b.c.", false},
		{"dev@exa\u200bmple.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := checkEmail(tt.in)
			if tt.ok {
				cmdutiltest.CheckExit(t, err, cmdutil.ExitOK)
				return
			}
			cmdutiltest.CheckExit(t, err, cmdutil.ExitUsage)
		})
	}
}
