// Package output prints resources for people and for programs: plain
// tables, indented JSON, JSON lines, jq expressions and Go templates. It
// also owns the helpers that make server-supplied text safe to show in a
// terminal.
package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"

	"github.com/itchyny/gojq"
)

// Formats accepted by Options.Format.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatJSONL = "jsonl"
)

// Options selects how a Printer writes.
type Options struct {
	// Format is "table" (the default when empty), "json" or "jsonl".
	Format string
	// JQ is a jq expression applied to the JSON form of the output. It
	// implies JSON; with "jsonl" it runs on each list item in turn.
	JQ string
	// Template is a Go text/template executed on the JSON form of the
	// output, so field names are the API's. It implies JSON; with "jsonl"
	// it runs on each list item in turn.
	Template string
	// Context, when set, bounds jq evaluation, so Ctrl-C or a deadline
	// stops a runaway expression.
	Context context.Context
	// Color lets the template function autocolor colour its text (stdout
	// is a terminal and NO_COLOR is not set); NoColor turns color off too
	// (NO_COLOR is set).
	Color, NoColor bool
	// Now is the clock the template function timeago counts from; nil is
	// time.Now.
	Now func() time.Time
	// Terminal says the output goes to a terminal: the results of JQ and
	// Template then show control, escape and bidirectional characters
	// escaped (see Escape), as a table drops them, so text a server sent
	// cannot drive the terminal. To a pipe or a file they stay byte-exact.
	Terminal bool
}

// Printer writes single resources and lists in the selected format.
type Printer struct {
	ctx    context.Context
	w      io.Writer
	format string
	jq     *gojq.Code
	tmpl   *template.Template

	color, noColor bool
	now            func() time.Time
	terminal       bool
	// rows are the template's tablerow rows not yet rendered.
	rows [][]string
}

// New returns a Printer writing to w. It fails on an unknown format, an
// expression jq cannot compile, a template that does not parse, or both
// JQ and Template at once; callers report these as usage errors.
func New(w io.Writer, o Options) (*Printer, error) {
	p := &Printer{w: w, ctx: o.Context, color: o.Color && !o.NoColor, noColor: o.NoColor, now: o.Now, terminal: o.Terminal}
	if p.ctx == nil {
		p.ctx = context.Background()
	}
	if p.now == nil {
		p.now = time.Now
	}
	switch f := strings.ToLower(strings.TrimSpace(o.Format)); f {
	case "", FormatTable:
		p.format = FormatTable
	case FormatJSON, FormatJSONL:
		p.format = f
	default:
		return nil, fmt.Errorf("unknown output format %q: use table, json or jsonl", o.Format)
	}
	if o.JQ != "" && o.Template != "" {
		return nil, errors.New("--jq and --template cannot be used together")
	}
	if o.JQ != "" {
		q, err := gojq.Parse(o.JQ)
		if err != nil {
			return nil, fmt.Errorf("invalid jq expression: %w", err)
		}
		code, err := gojq.Compile(q)
		if err != nil {
			return nil, fmt.Errorf("invalid jq expression: %w", err)
		}
		p.jq = code
	}
	if o.Template != "" {
		t, err := template.New("output").Option("missingkey=zero").Funcs(p.funcs()).Parse(o.Template)
		if err != nil {
			return nil, fmt.Errorf("invalid template: %w", err)
		}
		p.tmpl = t
	}
	if p.Query() && p.format == FormatTable {
		p.format = FormatJSON
	}
	return p, nil
}

// Colored reports whether stdout takes colour: it is a terminal and
// NO_COLOR is not set.
func (p *Printer) Colored() bool { return p.color }

// Table reports whether people-oriented table output is wanted. When it is
// false, commands hand their resources to Object or List.
func (p *Printer) Table() bool { return p.format == FormatTable }

// Format returns the effective format: "table", "json" or "jsonl". A jq
// expression or a template turns "table" into "json" and leaves "jsonl".
func (p *Printer) Format() string { return p.format }

// Query reports whether a jq expression or a template shapes the output.
func (p *Printer) Query() bool { return p.jq != nil || p.tmpl != nil }

// Object writes one resource. JSON is indented, JSON lines is one line; a
// jq expression prints each result on its own line (strings raw, like
// jq -r, everything else as compact JSON); a template runs once on the
// decoded JSON value. In table mode, where callers normally draw their own
// table, it writes indented JSON.
//
// A jq expression or template that fails on the data returns a *QueryError.
func (p *Printer) Object(v any) error {
	switch {
	case p.Query():
		doc, err := decoded(v)
		if err != nil {
			return err
		}
		return p.apply(doc, false)
	case p.format == FormatJSONL:
		b, err := marshal(v, "", "")
		if err != nil {
			return err
		}
		return p.write(append(b, '\n'))
	default:
		b, err := marshal(v, "", "  ")
		if err != nil {
			return err
		}
		return p.write(append(b, '\n'))
	}
}

func (p *Printer) write(b []byte) error {
	_, err := p.w.Write(b)
	return err
}

// apply runs the jq expression or the template on a decoded JSON value.
// With line set, a template's output that does not end in a newline gets
// one, so each list item of JSON lines output is a line of its own.
func (p *Printer) apply(doc any, line bool) error {
	if p.tmpl != nil {
		var buf bytes.Buffer
		p.rows = nil
		if p.terminal {
			// The data, not the result, is escaped: the colours the
			// template's own functions add must reach the terminal.
			doc = escapeStrings(doc)
		}
		if err := p.tmpl.Execute(&buf, doc); err != nil {
			return &QueryError{Err: err, flag: "--template"}
		}
		// Rows added with tablerow and never rendered are rendered at
		// the end, as gh does.
		rest, err := p.renderRows()
		if err != nil {
			return err
		}
		buf.WriteString(rest)
		if line && buf.Len() > 0 && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
			buf.WriteByte('\n')
		}
		return p.write(buf.Bytes())
	}
	var buf bytes.Buffer
	iter := p.jq.RunWithContext(p.ctx, doc)
	for {
		r, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := r.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				break
			}
			// Flush what was computed before the failure, as jq does.
			if werr := p.writeResult(buf.Bytes()); werr != nil {
				return werr
			}
			return &QueryError{Err: err, flag: "--jq"}
		}
		if s, ok := r.(string); ok {
			buf.WriteString(s)
		} else {
			b, err := gojq.Marshal(r)
			if err != nil {
				return &QueryError{Err: err, flag: "--jq"}
			}
			buf.Write(b)
		}
		buf.WriteByte('\n')
	}
	return p.writeResult(buf.Bytes())
}

// writeResult writes a jq expression's results: escaped on a terminal,
// where a string built by the expression (@base64d, implode) could hold
// escape sequences the data did not show.
func (p *Printer) writeResult(b []byte) error {
	if p.terminal {
		return p.write([]byte(Escape(string(b))))
	}
	return p.write(b)
}

// List starts writing a list. JSON writes "[" with the first item and
// each item as it is added, so a long listing streams; JSON lines writes
// one item a line. A jq expression or template runs on each item as it is
// added in JSON lines mode, and once on the whole array at Close in JSON
// mode.
func (p *Printer) List() *ListWriter { return &ListWriter{p: p} }

// ListWriter writes the items of one list; see Printer.List.
//
// Close only ends the list: it writes the closing "]" ("[]" when nothing
// was added) or, for a jq expression or template in JSON mode, the result
// on the whole array. A list that fails part-way is left unterminated on
// purpose: a caller that stops on an error does not call Close, so a
// script's JSON parser fails instead of reading a short list, and a jq
// expression never runs on part of the list. Nothing is written before
// the first Add.
//
// Items given as JSON (AddJSON) are held and written listHold bytes at a
// time rather than one write each; a caller that stops on an error calls
// Flush, so that what was added before it is written.
type ListWriter struct {
	p      *Printer
	n      int
	items  []any
	closed bool
	buf    []byte // AddJSON's output not yet written
}

// listHold is how many bytes of items added as JSON a ListWriter holds
// before writing them: a listing of 10,000 tokens made 10,000 writes.
const listHold = 64 << 10

// Add writes or collects one item. A jq expression or template that fails
// on the item returns a *QueryError.
func (l *ListWriter) Add(v any) error {
	if l.closed {
		return errors.New("output: Add after Close")
	}
	if err := l.Flush(); err != nil {
		return err
	}
	p := l.p
	switch {
	case p.Query() && p.format == FormatJSONL:
		doc, err := decoded(v)
		if err != nil {
			return err
		}
		l.n++
		return p.apply(doc, true)
	case p.Query():
		doc, err := decoded(v)
		if err != nil {
			return err
		}
		l.items = append(l.items, doc)
		l.n++
		return nil
	case p.format == FormatJSONL:
		b, err := marshal(v, "", "")
		if err != nil {
			return err
		}
		l.n++
		return p.write(append(b, '\n'))
	default:
		b, err := marshal(v, "  ", "  ")
		if err != nil {
			return err
		}
		var out []byte
		if l.n == 0 {
			out = append(out, "[\n  "...)
		} else {
			out = append(out, ",\n  "...)
		}
		out = append(out, b...)
		l.n++
		return p.write(out)
	}
}

// AddJSON writes or collects one item given as its JSON: exactly what
// Add writes for a value whose compact encoding (encoding/json, no HTML
// escaping) is b, without decoding b unless a jq expression or template
// needs it.
func (l *ListWriter) AddJSON(b []byte) error {
	if l.closed {
		return errors.New("output: Add after Close")
	}
	p := l.p
	switch {
	case p.Query():
		doc, err := decodedJSON(b)
		if err != nil {
			return err
		}
		l.n++
		if p.format == FormatJSONL {
			return p.apply(doc, true)
		}
		l.items = append(l.items, doc)
		return nil
	case p.format == FormatJSONL:
		l.buf = append(append(l.buf, b...), '\n')
	default:
		mark := len(l.buf)
		if l.n == 0 {
			l.buf = append(l.buf, "[\n  "...)
		} else {
			l.buf = append(l.buf, ",\n  "...)
		}
		var err error
		if l.buf, err = appendIndented(l.buf, b, "  ", "  "); err != nil {
			l.buf = l.buf[:mark]
			return err
		}
	}
	l.n++
	if len(l.buf) >= listHold {
		return l.Flush()
	}
	return nil
}

// Hold adds v as AddJSON adds its encoding: held, and written listHold
// bytes at a time rather than one write an item. Like AddJSON's, a caller
// that stops on an error calls Flush. The output is Add's, byte for byte.
func (l *ListWriter) Hold(v any) error {
	b, err := marshal(v, "", "")
	if err != nil {
		return err
	}
	return l.AddJSON(b)
}

// Flush writes the items added as JSON and not yet written.
func (l *ListWriter) Flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.p.write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Len returns how many items were added.
func (l *ListWriter) Len() int { return l.n }

// Close ends the list: "]" for JSON ("[]" when empty), the jq or template
// result on the collected items in JSON mode, nothing for JSON lines.
// Closing twice is a no-op. A jq expression or template that fails on the
// array returns a *QueryError.
func (l *ListWriter) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	p := l.p
	switch {
	case p.format == FormatJSONL:
		return l.Flush()
	case p.Query():
		items := l.items
		if items == nil {
			items = []any{}
		}
		l.items = nil
		return p.apply(items, false)
	default:
		if l.n == 0 {
			return p.write([]byte("[]\n"))
		}
		l.buf = append(l.buf, "\n]\n"...)
		return l.Flush()
	}
}

// marshal encodes v as JSON without HTML escaping and without the encoder's
// trailing newline.
func marshal(v any, prefix, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" || prefix != "" {
		enc.SetIndent(prefix, indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// decodedJSON is the generic form of the JSON b, numbers exact.
func decodedJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// decoded turns v into the generic form of its JSON encoding, so that jq
// and templates see the API's field names. Numbers stay exact.
func decoded(v any) (any, error) {
	b, err := marshal(v, "", "")
	if err != nil {
		return nil, err
	}
	return decodedJSON(b)
}
