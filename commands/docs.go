package commands

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/iostreams"
)

// Tree returns impactctl's whole command tree, help topics included, for
// generating documentation such as man pages. It is built as Main builds
// it, on streams that go nowhere; running commands is Main's job.
func Tree(version string) *cobra.Command {
	f := newFactory(iostreams.Streams(strings.NewReader(""), io.Discard, io.Discard), version, nil)
	root := newRootCmd(f)
	root.DisableAutoGenTag = true
	return root
}
