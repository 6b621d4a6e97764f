package output

import (
	"io"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// KeyValues writes one "Key:  value" line per pair with the values aligned
// in one column, the way `tokens show` prints a token in table mode. Keys
// and values are sanitized; an empty value leaves no trailing space.
func KeyValues(w io.Writer, pairs [][2]string) error {
	width := 0
	for _, kv := range pairs {
		if n := displayWidth(Sanitize(kv[0])); n > width {
			width = n
		}
	}
	var b strings.Builder
	for _, kv := range pairs {
		k, v := Sanitize(kv[0]), Sanitize(kv[1])
		b.WriteString(k)
		b.WriteByte(':')
		if v != "" {
			b.WriteString(strings.Repeat(" ", width-displayWidth(k)+2))
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth measures s in terminal cells the same way the tables do.
func displayWidth(s string) int { return twwidth.Width(s) }
