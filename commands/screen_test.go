package commands_test

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// screen is a small terminal emulator for the scripts typed at a full-screen
// page: it keeps what a terminal of rows × cols shows, understanding what a
// program drawing in place sends (text, CR, LF, cursor moves, erases) and
// ignoring modes, colours and titles. It also counts the colour escapes it
// was sent, and keeps every query it was sent (a question a terminal
// answers on the program's input) without answering it, as a terminal that
// never answers.
type screen struct {
	mu         sync.Mutex
	rows, cols int
	cells      [][]string // one grapheme per cell; "" is the right half of a wide one
	y, x       int
	wrapNext   bool
	last       string   // the last character put, for REP
	pending    []byte   // an escape sequence or UTF-8 split across writes
	sgr        int      // SGR sequences that set a style or colour
	raw        int      // bytes written
	queries    []string // the queries sent, as written
	escapes    int      // escape sequences sent
}

func newScreen(rows, cols int) *screen {
	s := &screen{rows: rows, cols: cols}
	for range rows {
		s.cells = append(s.cells, s.blank())
	}
	return s
}

func (s *screen) blank() []string {
	l := make([]string, s.cols)
	for i := range l {
		l[i] = " "
	}
	return l
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw += len(p)
	data := append(s.pending, p...)
	s.pending = nil
	for len(data) > 0 {
		n := s.step(data)
		if n == 0 { // incomplete: wait for more
			s.pending = append([]byte(nil), data...)
			break
		}
		data = data[n:]
	}
	return len(p), nil
}

// step consumes one control, escape sequence or grapheme from data and
// returns how many bytes it took, or 0 when data ends mid-sequence.
func (s *screen) step(data []byte) int {
	switch c := data[0]; {
	case c == '\r':
		s.x, s.wrapNext = 0, false
		return 1
	case c == '\n':
		s.lineFeed()
		return 1
	case c == '\b':
		s.x, s.wrapNext = max(0, s.x-1), false
		return 1
	case c == '\t':
		s.x, s.wrapNext = min(s.cols-1, (s.x/8+1)*8), false
		return 1
	case c == 0x1b:
		n := s.escape(data)
		if n > 0 {
			s.escapes++
		}
		return n
	case c < 0x20 || c == 0x7f:
		return 1
	}
	if !utf8.FullRune(data) {
		return 0
	}
	r, n := utf8.DecodeRune(data)
	s.put(string(r), max(1, ansi.StringWidth(string(r))))
	s.last = string(r)
	return n
}

func (s *screen) put(g string, w int) {
	if s.wrapNext || s.x+w > s.cols {
		s.x, s.wrapNext = 0, false
		s.lineFeed()
	}
	s.cells[s.y][s.x] = g
	for i := 1; i < w && s.x+i < s.cols; i++ {
		s.cells[s.y][s.x+i] = ""
	}
	s.x += w
	if s.x >= s.cols {
		s.x, s.wrapNext = s.cols-1, true
	}
}

func (s *screen) lineFeed() {
	s.wrapNext = false
	if s.y < s.rows-1 {
		s.y++
		return
	}
	s.cells = append(s.cells[1:], s.blank())
}

// escape handles ESC sequences: CSI (ESC [), OSC (ESC ]) and two-byte ones.
func (s *screen) escape(data []byte) int {
	if len(data) < 2 {
		return 0
	}
	switch data[1] {
	case '[':
		for i := 2; i < len(data); i++ {
			if data[i] >= 0x40 && data[i] <= 0x7e {
				if isQuery(string(data[2:i]), data[i]) {
					s.queries = append(s.queries, string(data[:i+1]))
				}
				s.csi(string(data[2:i]), data[i])
				return i + 1
			}
		}
		return 0
	case ']', 'P', '_', '^':
		for i := 2; i < len(data); i++ {
			end := 0
			if data[i] == 0x07 {
				end = i + 1
			}
			if data[i] == 0x1b && i+1 < len(data) && data[i+1] == '\\' {
				end = i + 2
			}
			if end > 0 {
				// A colour query (OSC 4, 10, 11, 12… ending "?"), or a
				// request for a setting or capability (DCS $q, DCS +q).
				body := string(data[2:i])
				if (data[1] == ']' && strings.HasSuffix(body, "?")) ||
					(data[1] == 'P' && (strings.HasPrefix(body, "$q") || strings.HasPrefix(body, "+q"))) {
					s.queries = append(s.queries, string(data[:end]))
				}
				return end
			}
		}
		return 0
	}
	switch data[1] {
	case 'M': // reverse index: up a line, scrolling down at the top
		if s.y > 0 {
			s.y--
		} else {
			s.cells = append([][]string{s.blank()}, s.cells[:s.rows-1]...)
		}
		s.wrapNext = false
	case 'D': // index
		s.lineFeed()
	case 'E': // next line
		s.x = 0
		s.lineFeed()
	}
	return 2
}

func (s *screen) csi(params string, final byte) {
	private := params != "" && strings.ContainsRune("<=>?", rune(params[0]))
	var nums []int
	for _, f := range strings.Split(strings.TrimLeft(params, "<=>?"), ";") {
		n, _ := strconv.Atoi(f)
		nums = append(nums, n)
	}
	arg := func(i, def int) int {
		if i < len(nums) && nums[i] > 0 {
			return nums[i]
		}
		return def
	}
	if private {
		return
	}
	switch final {
	case 'A':
		s.y = max(0, s.y-arg(0, 1))
	case 'B':
		s.y = min(s.rows-1, s.y+arg(0, 1))
	case 'C':
		s.x = min(s.cols-1, s.x+arg(0, 1))
	case 'D':
		s.x = max(0, s.x-arg(0, 1))
	case 'E':
		s.y, s.x = min(s.rows-1, s.y+arg(0, 1)), 0
	case 'F':
		s.y, s.x = max(0, s.y-arg(0, 1)), 0
	case 'G':
		s.x = min(s.cols-1, arg(0, 1)-1)
	case 'd':
		s.y = min(s.rows-1, arg(0, 1)-1)
	case 'I':
		for range arg(0, 1) {
			s.x = min(s.cols-1, (s.x/8+1)*8)
		}
	case 'Z':
		for range arg(0, 1) {
			s.x = max(0, (s.x-1)/8*8)
		}
	case 'P': // delete characters, the rest of the line moving left
		n := min(arg(0, 1), s.cols-s.x)
		line := s.cells[s.y]
		copy(line[s.x:], line[s.x+n:])
		for x := s.cols - n; x < s.cols; x++ {
			line[x] = " "
		}
	case '@': // insert blanks, the rest of the line moving right
		n := min(arg(0, 1), s.cols-s.x)
		line := s.cells[s.y]
		copy(line[s.x+n:], line[s.x:])
		for x := s.x; x < s.x+n; x++ {
			line[x] = " "
		}
	case 'X': // erase characters
		s.eraseLine(s.y, s.x, s.x+arg(0, 1))
	case 'b': // repeat the last character
		if s.last != "" {
			for range arg(0, 1) {
				s.put(s.last, max(1, ansi.StringWidth(s.last)))
			}
		}
		return
	case 'H', 'f':
		s.y, s.x = min(s.rows-1, arg(0, 1)-1), min(s.cols-1, arg(1, 1)-1)
	case 'J':
		switch arg(0, 0) {
		case 0:
			s.eraseLine(s.y, s.x, s.cols)
			for y := s.y + 1; y < s.rows; y++ {
				s.cells[y] = s.blank()
			}
		case 2, 3:
			for y := range s.rows {
				s.cells[y] = s.blank()
			}
		}
	case 'K':
		switch arg(0, 0) {
		case 0:
			s.eraseLine(s.y, s.x, s.cols)
		case 1:
			s.eraseLine(s.y, 0, s.x+1)
		case 2:
			s.eraseLine(s.y, 0, s.cols)
		}
	case 'L':
		n := min(arg(0, 1), s.rows-s.y)
		for range n {
			s.cells = append(s.cells[:s.y], append([][]string{s.blank()}, s.cells[s.y:s.rows-1]...)...)
		}
	case 'M': // delete lines, those below moving up
		n := min(arg(0, 1), s.rows-s.y)
		for range n {
			s.cells = append(append(s.cells[:s.y:s.y], s.cells[s.y+1:]...), s.blank())
		}
	case 'S': // scroll up
		for range min(arg(0, 1), s.rows) {
			s.cells = append(s.cells[1:], s.blank())
		}
	case 'T': // scroll down
		for range min(arg(0, 1), s.rows) {
			s.cells = append([][]string{s.blank()}, s.cells[:s.rows-1]...)
		}
	case 'm':
		if strings.Trim(params, "0;") != "" {
			s.sgr++
		}
	}
	s.wrapNext = false
}

// isQuery reports whether CSI params final asks the terminal something: a
// status or cursor report (DSR), its attributes (DA), a mode (DECRQM), its
// kitty keyboard flags, its version (XTVERSION) or its size.
func isQuery(params string, final byte) bool {
	switch final {
	case 'n', 'c':
		return true
	case 'p':
		return strings.HasSuffix(params, "$")
	case 'u':
		return params == "?"
	case 'q':
		return strings.HasPrefix(params, ">")
	case 't':
		return params == "14" || params == "16" || params == "18"
	}
	return false
}

func (s *screen) eraseLine(y, from, to int) {
	for x := from; x < to && x < s.cols; x++ {
		s.cells[y][x] = " "
	}
}

// String is what the screen shows: each row without trailing blanks, and
// no blank rows at the end.
func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, row := range s.cells {
		lines = append(lines, strings.TrimRight(strings.Join(row, ""), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// written is how many bytes the screen was sent so far.
func (s *screen) written() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw
}

// escapeCount is how many escape sequences the screen was sent.
func (s *screen) escapeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.escapes
}

// asked returns the queries the screen was sent.
func (s *screen) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// colours is how many SGR sequences setting a style or colour it was sent.
func (s *screen) colours() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sgr
}
