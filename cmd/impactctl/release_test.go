package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestReleaseLdflagsStampVersion builds impactctl with the ldflags of
// .goreleaser.yaml, its templates filled in, and checks that `version`
// reports what they stamp: a renamed variable would otherwise leave
// release binaries saying "dev" without any error.
func TestReleaseLdflagsStampVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			Main    string   `yaml:"main"`
			Ldflags []string `yaml:"ldflags"`
		} `yaml:"builds"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Builds) != 1 || cfg.Builds[0].Main != "./cmd/impactctl" {
		t.Fatalf("want one build of ./cmd/impactctl, got %+v", cfg.Builds)
	}
	fill := strings.NewReplacer(
		"{{ .Version }}", "1.4.0",
		"{{ .FullCommit }}", "0123456789abcdef0123456789abcdef01234567",
		"{{ .CommitDate }}", "2026-03-04T05:06:07Z",
	)
	ldflags := fill.Replace(strings.Join(cfg.Builds[0].Ldflags, " "))
	if strings.Contains(ldflags, "{{") {
		t.Fatalf("the test fills no value for a template in %q", ldflags)
	}

	bin := filepath.Join(t.TempDir(), "impactctl")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	var got struct{ Version, Commit, Date string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	want := struct{ Version, Commit, Date string }{"1.4.0", "0123456789abcdef0123456789abcdef01234567", "2026-03-04T05:06:07Z"}
	if got != want {
		t.Errorf("version reports %+v, want %+v", got, want)
	}
}

// TestReleaseConfigChecks runs `goreleaser check` where goreleaser is
// installed; CI does not need it.
func TestReleaseConfigChecks(t *testing.T) {
	goreleaser, err := exec.LookPath("goreleaser")
	if err != nil {
		t.Skip("goreleaser is not installed")
	}
	cmd := exec.Command(goreleaser, "check")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}
