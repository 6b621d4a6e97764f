package commands

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print impactctl's version",
		Example: `  impactctl version
  impactctl version -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := f.Version
			if rev := buildRevision(); rev != "" {
				v += " (" + rev + ")"
			}
			if !f.Printer().Table() {
				return f.Printer().Object(map[string]string{"Version": v, "Go": runtime.Version()})
			}
			_, err := fmt.Fprintf(f.IO.Out, "impactctl %s\n", versionText(f))
			return err
		},
	}
}

// versionText is the version as `impactctl version` and --version show it:
// "1.2.0 (0123abcd4567) go1.26.0".
func versionText(f *Factory) string {
	v := f.Version
	if rev := buildRevision(); rev != "" {
		v += " (" + rev + ")"
	}
	return v + " " + runtime.Version()
}

// buildRevision is the commit a binary was built from, when the go command
// recorded it (go build in a checkout; not go run or tests).
func buildRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
