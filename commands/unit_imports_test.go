package commands

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/impactcom/impactctl/"

// deps returns every import path pkg (a path inside this module) reaches,
// following this module's packages; test files are not counted.
func deps(t *testing.T, pkg string, seen map[string]bool) {
	t.Helper()
	p, err := build.ImportDir(filepath.Join("..", strings.TrimPrefix(pkg, module)), 0)
	if err != nil {
		t.Fatalf("%s: %v", pkg, err)
	}
	for _, imp := range p.Imports {
		if seen[imp] {
			continue
		}
		seen[imp] = true
		if strings.HasPrefix(imp, module) {
			deps(t, imp, seen)
		}
	}
}

// TestImportRules holds the CLI's packages to their layers: nothing under
// internal/ knows cobra, viper, the commands or the server; the streams
// know only output; exit codes and argument parsing know no other part of
// the CLI; the config never reaches the pipeline.
func TestImportRules(t *testing.T) {
	cobra, viper := "github.com/spf13/cobra", "github.com/spf13/viper"
	commands, server := module+"commands", module+"server"
	internal := []string{"internal/pipeline", "internal/config", "internal/cmdutil", "internal/iostreams"}
	rules := map[string][]string{
		"client":             {cobra, viper, commands, server, module + "output"},
		"output":             {cobra, viper, commands, server, module + "client"},
		"internal/pipeline":  {cobra, viper, commands, server},
		"internal/config":    {cobra, viper, commands, server, module + "internal/pipeline"},
		"internal/cmdutil":   append([]string{cobra, viper, commands, server}, prefixed(internal)...),
		"internal/iostreams": {cobra, viper, commands, server},
	}
	for pkg, never := range rules {
		seen := map[string]bool{}
		deps(t, module+pkg, seen)
		for _, n := range never {
			if n != module+pkg && seen[n] {
				t.Errorf("%s reaches %s", pkg, n)
			}
		}
	}
	// The streams import nothing of ours but output.
	p, err := build.ImportDir(filepath.Join("..", "internal", "iostreams"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range p.Imports {
		if strings.HasPrefix(imp, module) && imp != module+"output" {
			t.Errorf("internal/iostreams imports %s: it may import only output of ours", imp)
		}
	}
}

func prefixed(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, module+p)
	}
	return out
}
