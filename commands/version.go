package commands

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print impactctl's version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !f.Printer().Table() {
				return f.Printer().Object(map[string]string{"Version": f.Version, "Go": runtime.Version()})
			}
			_, err := fmt.Fprintf(f.IO.Out, "impactctl %s (%s)\n", f.Version, runtime.Version())
			return err
		},
	}
}
