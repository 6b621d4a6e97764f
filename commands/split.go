package commands

import (
	"bufio"
	"io"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// maxSplitInput bounds what __split-command reads.
const maxSplitInput = 64 << 10

// newSplitCmd is a hidden helper of the GitHub action (action.yml): it
// splits the action's `command` input into impactctl's arguments with the
// same rules as --secret-cmd (quotes and backslashes honoured, nothing
// expanded, shell syntax refused) and writes them to stdout, each ended by
// a NUL byte, as bash's read reads them with an empty delimiter.
func newSplitCmd(f *Factory, runF func(*SplitOptions) error) *cobra.Command {
	opts := &SplitOptions{}
	return &cobra.Command{
		Use:    "__split-command",
		Short:  "Split a command line into words, as --secret-cmd does (for the GitHub action)",
		Hidden: true,
		Args:   exactArgs(0, "no arguments: the command line comes on stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			if runF != nil {
				return runF(opts)
			}
			return splitRun(opts)
		},
	}
}

// SplitOptions are `__split-command`'s inputs.
type SplitOptions struct {
	IO *iostreams.IOStreams
}

func splitRun(opts *SplitOptions) error {
	b, err := io.ReadAll(io.LimitReader(opts.IO.In, maxSplitInput+1))
	if err != nil {
		return err
	}
	if len(b) > maxSplitInput {
		return cmdutil.UsageErrorf("the command is longer than %d bytes", maxSplitInput)
	}
	words, err := pipeline.SplitWords(string(b), "the command", "write such words in single quotes")
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return cmdutil.UsageErrorf("the command is empty")
	}
	w := bufio.NewWriter(opts.IO.Out)
	for _, word := range words {
		w.WriteString(word)
		w.WriteByte(0)
	}
	return w.Flush()
}
