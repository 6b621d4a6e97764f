package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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

// The Homebrew cask installs every man page the packages install: its
// list names each page gen-docs writes.
func TestCaskListsEveryManPage(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range pages {
		want = append(want, "manpages/"+filepath.Base(p)+".gz")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Casks []struct {
			Manpages []string `yaml:"manpages"`
		} `yaml:"homebrew_casks"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Casks) != 1 {
		t.Fatalf(".goreleaser.yaml has %d homebrew casks, want 1", len(cfg.Casks))
	}
	got := slices.Clone(cfg.Casks[0].Manpages)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) && os.Getenv("UPDATE_CASK") == "1" {
		// UPDATE_CASK=1 go test ./cmd/gen-docs rewrites the list.
		if err := os.WriteFile(filepath.Join("..", "..", ".goreleaser.yaml"), rewriteCaskManpages(b, want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("the cask's manpages list differs from the pages gen-docs writes:\n got %q\nwant %q\n(UPDATE_CASK=1 go test ./cmd/gen-docs writes this list into .goreleaser.yaml:)\n%s", got, want, "      - "+strings.Join(want, "\n      - "))
	}
}

// rewriteCaskManpages replaces the items of the cask's "manpages:" list in
// the config text b with pages.
func rewriteCaskManpages(b []byte, pages []string) []byte {
	lines := strings.Split(string(b), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if strings.TrimSpace(lines[i]) != "manpages:" || !strings.HasPrefix(lines[i], "    manpages:") {
			continue
		}
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "      - manpages/") {
			i++
		}
		for _, p := range pages {
			out = append(out, "      - "+p)
		}
	}
	return []byte(strings.Join(out, "\n"))
}
