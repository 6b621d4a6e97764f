package output

import (
	"bytes"
	"encoding/json"
)

// appendIndented appends the compact JSON b indented as json.Indent would
// with this prefix and indent, in one pass with no scanner: b is the
// output of encoding/json, so it holds no space outside strings. Input
// that is not compact JSON is handed to json.Indent, which also reports it
// when it is not JSON at all.
func appendIndented(dst, b []byte, prefix, indent string) ([]byte, error) {
	start := len(dst)
	depth := 0
	// line is a newline and the indent at depth, grown as depth grows.
	line := make([]byte, 0, 1+len(prefix)+4*len(indent))
	line = append(append(line, '\n'), prefix...)
	base := len(line)
	newline := func() {
		for n := base + depth*len(indent); len(line) < n; {
			line = append(line, indent...)
		}
		dst = append(dst, line[:base+depth*len(indent)]...)
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			// The string ends at the first quote after an even run of
			// backslashes; bytes.IndexByte finds quotes many bytes at a time.
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return slow(dst[:start], b, prefix, indent)
				}
				j += k
				n := 0
				for j-1-n > i && b[j-1-n] == '\\' {
					n++
				}
				if n%2 == 0 {
					break
				}
				j++
			}
			dst = append(dst, b[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(b) && (b[i+1] == '}' || b[i+1] == ']') {
				// Empty: json.Indent keeps "{}" and "[]" together.
				dst = append(dst, b[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			if depth < 0 {
				return slow(dst[:start], b, prefix, indent)
			}
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		case ' ', '\t', '\n', '\r':
			return slow(dst[:start], b, prefix, indent)
		default:
			dst = append(dst, c)
		}
	}
	if depth != 0 {
		return slow(dst[:start], b, prefix, indent)
	}
	return dst, nil
}

// slow is json.Indent, for input appendIndented does not expect.
func slow(dst, b []byte, prefix, indent string) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := json.Indent(buf, b, prefix, indent); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}
