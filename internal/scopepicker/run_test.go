package scopepicker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an output the page may write to from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run puts the page on a terminal that, once the page is drawn, sends
// input all at once, as keys typed faster than they are read arrive, and
// never answers a query.
func run(t *testing.T, ctx context.Context, m Model, input string) (Model, string, error) {
	t.Helper()
	r, w := io.Pipe()
	defer w.Close()
	out := &syncBuffer{}
	go func() {
		for range 500 {
			if strings.Contains(out.String(), "API scopes of token") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		io.WriteString(w, input)
	}()
	if m.width == 0 {
		m.width, m.height = 80, 24
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := Run(ctx, r, out, m)
	return m, out.String(), err
}

// Keys read together still count one by one; a paste is text, never
// keys, and goes into a filter being typed.
func TestRunReadsKeysOneByOne(t *testing.T) {
	for _, c := range []struct {
		name, input string
		outcome     Outcome
		selected    []string
	}{
		{"jj space enter", "jj \r", Done, []string{"account.write"}},
		{"q among keys", "jqj \r", Cancelled, []string{}},
		{"esc", "\x1b", Cancelled, []string{}},
		{"ctrl+c", "j \x03", Interrupted, []string{"account.read"}},
		{"filter typed", "/exp\rj \r", Done, []string{"reports.export"}},
		{"paste on the list", "\x1b[200~jj c\x1b[201~\r", Done, []string{}},
		{"paste into the filter", "/\x1b[200~export\x1b[201~\rj \r", Done, []string{"reports.export"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, out, err := run(t, t.Context(), newPage(), c.input)
			if err != nil {
				t.Fatalf("Run: %v\n%q", err, out)
			}
			if m.Outcome() != c.outcome || !slices.Equal(m.Selected(), c.selected) {
				t.Fatalf("outcome %v selected %v, want %v %v\n%q", m.Outcome(), m.Selected(), c.outcome, c.selected, out)
			}
			if !strings.Contains(out, "API scopes of token IR1 (Test)") {
				t.Fatalf("the page was not drawn:\n%q", out)
			}
		})
	}
}

// The page asks the terminal nothing (its colours, the cursor's position,
// its modes or keyboard flags, what it is), and without colour it sends no
// colour or style.
func TestRunAsksTheTerminalNothing(t *testing.T) {
	for _, color := range []bool{false, true} {
		m := New(Options{Title: "API scopes of token IR1 (Test)", Categories: catalog(), Checked: []string{"reports.read"}, Color: color})
		_, out, err := run(t, t.Context(), m, "jj \r")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "API scopes of token IR1 (Test)") {
			t.Fatalf("the page was not drawn:\n%q", out)
		}
		for _, query := range []string{"\x1b]10;?", "\x1b]11;?", "\x1b]12;?", "\x1b]4;", "\x1b[6n", "\x1b[?6n",
			"$p", "\x1b[?u", "\x1b[c", "\x1b[0c", "\x1b[>c", "\x1b[>0c", "\x1b[>q", "\x1b[>0q", "\x1bP+q", "\x1b[14t", "\x1b[18t"} {
			if strings.Contains(out, query) {
				t.Errorf("colour %v: the page sent the query %q:\n%q", color, query, out)
			}
		}
		styled := sgrWithParams(out)
		if !color && styled != 0 {
			t.Errorf("without colour the page sent %d styles:\n%q", styled, out)
		}
		if color && styled == 0 {
			t.Errorf("with colour the page sent no style:\n%q", out)
		}
	}
}

// sgrWithParams counts SGR sequences that set something (not a plain reset).
func sgrWithParams(s string) int {
	n := 0
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return n
		}
		s = s[i+2:]
		j := strings.IndexFunc(s, func(r rune) bool { return r >= 0x40 && r <= 0x7e })
		if j < 0 {
			return n
		}
		private := j > 0 && strings.ContainsRune("<=>?", rune(s[0]))
		if s[j] == 'm' && !private && strings.Trim(s[:j], "0;") != "" {
			n++
		}
		s = s[j+1:]
	}
}

// When the command's context ends (SIGINT, SIGTERM), the page closes.
func TestRunEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := run(t, ctx, newPage(), "j")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Run took %v after its context ended", d)
	}
}
