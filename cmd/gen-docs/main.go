// Command gen-docs writes impactctl's manual pages (section 1) for the whole
// command tree, one page per command and per help topic:
//
//	go run ./cmd/gen-docs -out DIR [-version V]
//
// Pages carry the date of SOURCE_DATE_EPOCH when it is set, so a release
// build makes the same pages twice.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/impactcom/impactctl/commands"
)

func main() {
	out := flag.String("out", "", "directory to write the man pages to (created if missing)")
	version := flag.String("version", "", "the version the pages describe")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen-docs -out DIR [-version V]")
		os.Exit(2)
	}
	if err := run(*out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}

func run(dir, version string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := commands.Tree(version)
	header := &doc.GenManHeader{Title: "IMPACTCTL", Section: "1", Source: strings.TrimSpace("impactctl " + version), Manual: "impactctl Manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	// The help topics are pages of text, not commands: cobra leaves them
	// out of the tree's pages.
	for _, c := range root.Commands() {
		if c.IsAdditionalHelpTopicCommand() {
			if err := writeTopic(dir, c, header); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeTopic writes a help topic as a page of preformatted text.
func writeTopic(dir string, c *cobra.Command, h *doc.GenManHeader) error {
	name := "impactctl-" + c.Name()
	date := time.Now()
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var secs int64
		if _, err := fmt.Sscan(epoch, &secs); err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", epoch, err)
		}
		date = time.Unix(secs, 0).UTC()
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %q %q %q %q %q\n", strings.ToUpper(name), h.Section, date.Format("Jan 2006"), h.Source, h.Manual)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(name), roff(c.Short))
	b.WriteString(".SH DESCRIPTION\n.nf\n")
	for _, line := range strings.Split(strings.TrimRight(c.Long, "\n"), "\n") {
		b.WriteString(roffLine(line) + "\n")
	}
	b.WriteString(".fi\n.SH SEE ALSO\n\\fBimpactctl(1)\\fP\n")
	return os.WriteFile(filepath.Join(dir, name+".1"), []byte(b.String()), 0o644)
}

// roff escapes text for roff.
func roff(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\e`), "-", `\-`)
}

// roffLine escapes a line of preformatted text; a line that starts with a
// dot or an apostrophe would be read as a request.
func roffLine(s string) string {
	s = roff(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
