package commands

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Release builds stamp the commit and its date beside the version:
// -ldflags "-X github.com/impactcom/impactctl/commands.commit=… -X …commands.date=…".
var (
	commit string
	date   string
)

// buildInfo says which impactctl this is.
type buildInfo struct {
	Version  string
	Commit   string `json:",omitempty"`
	Date     string `json:",omitempty"`
	Modified bool   `json:",omitempty"`
	Go       string
	Platform string
}

// String is the one line `impactctl version` prints.
func (b buildInfo) String() string {
	var facts []string
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+dirty"
		}
		facts = append(facts, c)
	}
	if b.Date != "" {
		facts = append(facts, b.Date)
	}
	s := "impactctl " + b.Version
	if len(facts) > 0 {
		s += " (" + strings.Join(facts, ", ") + ")"
	}
	return s + " " + b.Go + " " + b.Platform
}

// currentBuild is what the release build stamped, completed from what the
// go command recorded in the binary.
func currentBuild() buildInfo {
	return buildInfo{Version: version, Commit: commit, Date: date}.completed()
}

// completed fills in what b lacks from the binary's build information.
func (b buildInfo) completed() buildInfo {
	b.Go, b.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	if info, ok := debug.ReadBuildInfo(); ok {
		b = b.completedFrom(info)
	}
	return b
}

// completedFrom fills what was not stamped: `go install …@v1.2.3` records
// the module's version, and a build in a checkout records the commit, its
// time and whether the tree had changes.
func (b buildInfo) completedFrom(info *debug.BuildInfo) buildInfo {
	if b.Version == "" || b.Version == "dev" {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			b.Version = strings.TrimPrefix(v, "v")
		}
	}
	if b.Commit != "" {
		return b
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// VersionOptions are `version`'s inputs.
type VersionOptions struct {
	Env cmdEnv
	// Version is the version the Factory was made with.
	Version string
}

func newVersionCmd(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print impactctl's version, commit and build date",
		Example: `  impactctl version
  impactctl version -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Version = f.env(), f.Version
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	b := buildWithVersion(opts.Version)
	if !opts.Env.Printer.Table() {
		return opts.Env.Printer.Object(b)
	}
	_, err := fmt.Fprintln(opts.Env.IO.Out, b)
	return err
}

// versionText is the version as --version shows it after "impactctl ",
// the same line as `impactctl version`:
// "1.2.0 (0123abcd4567, 2026-01-02T03:04:05Z) go1.26.0 linux/amd64".
func versionText(version string) string {
	return strings.TrimPrefix(buildWithVersion(version).String(), "impactctl ")
}

// buildWithVersion is this build, with the version the Factory was made
// with (the documentation generator names the version it documents).
func buildWithVersion(version string) buildInfo {
	b := currentBuild()
	if version != "" {
		b.Version = version
	}
	return b
}
