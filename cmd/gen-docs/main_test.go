package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	dir := t.TempDir()
	if err := run(dir, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"impactctl.1":             `.TH "IMPACTCTL" "1" "Jan 2026" "impactctl 1.2.3"`,
		"impactctl-tokens-list.1": `\fB--unused-for\fP`,
		"impactctl-api.1":         "impactctl api ApiTokens/Current",
		"impactctl-exit-codes.1":  `130  interrupted`,
		"impactctl-environment.1": "IMPACTCTL_AUTH_TOKEN_FILE  a file holding",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not hold %q:\n%.600s", name, want, b)
		}
	}
}
