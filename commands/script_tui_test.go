package commands_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
)

// ptyKeys are the keys a ptykeys script can press, as a terminal sends them.
var ptyKeys = map[string]string{
	"up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D",
	"pgup": "\x1b[5~", "pgdown": "\x1b[6~", "home": "\x1b[H", "end": "\x1b[F",
	"space": " ", "enter": "\r", "esc": "\x1b", "backspace": "\x7f", "tab": "\t", "ctrl-c": "\x03",
}

// cmdPtyKeys runs a command on a pseudo-terminal (rows × cols, default
// 40 × 80, TERM=xterm-256color) and presses keys into it, one at a time
// and each only once the screen has settled, as a person would; a small
// terminal emulator keeps what the screen shows:
//
//	ptykeys [-cols N] [-rows N] keys.txt impactctl scopes edit $SID
//
// Each line of the keys file is one step:
//
//	await TEXT    wait (up to 10 s) until the screen shows TEXT
//	key NAME...   press keys: j, k, a, q, / (any one character), or up,
//	              down, pgup, pgdown, home, end, space, enter, esc,
//	              backspace, tab, ctrl-c
//	type TEXT     type text, a character at a time
//	answer TEXT   wait for a question ("] " or ": " at the end of the
//	              output), then type TEXT and Enter
//	exec CMD...   run another command meanwhile ($VARS expanded), as from
//	              a second terminal; it must succeed
//	snap          print the screen to stdout between "--- screen ---" and
//	              "--- end ---"
//
// When the keys are done it waits for the command to end (20 s at most),
// prints the screen as it was left, then "[colours N]" (how many escape
// sequences set a colour or style), "[queries N]" (how many questions it
// asked the terminal, which never answers; each follows, quoted) and
// "[exit N]".
func cmdPtyKeys(ts *testscript.TestScript, neg bool, args []string) {
	cols, rows := 80, 40
	for len(args) > 1 && (args[0] == "-cols" || args[0] == "-rows") {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			ts.Fatalf("ptykeys: %s wants a positive number", args[0])
		}
		if args[0] == "-cols" {
			cols = n
		} else {
			rows = n
		}
		args = args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: ptykeys [-cols N] [-rows N] keysfile command [args...]")
	}
	steps := ts.ReadFile(args[0])
	cmd := ptyCommand(ts, args[1:])
	cmd.Env = append(cmd.Env, "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	ts.Check(err)
	scr := newScreen(rows, cols)
	done := make(chan struct{})
	go func() {
		io.Copy(scr, f)
		close(done)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var out strings.Builder
	press := func(s string) {
		before := scr.written()
		_, err := io.WriteString(f, s)
		ts.Check(err)
		settle(scr, before, done)
	}
	for _, line := range strings.Split(steps, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "await":
			if !waitFor(func() bool { return strings.Contains(scr.String(), rest) }, 10*time.Second, done) {
				ts.Fatalf("ptykeys: the screen never showed %q:\n%s", rest, scr)
			}
		case "key":
			for _, k := range strings.Fields(rest) {
				seq, ok := ptyKeys[k]
				if !ok && len([]rune(k)) == 1 {
					seq, ok = k, true
				}
				if !ok {
					ts.Fatalf("ptykeys: unknown key %q", k)
				}
				press(seq)
			}
		case "type":
			for _, r := range rest {
				press(string(r))
			}
		case "answer":
			if !waitFor(func() bool {
				s := scr.String()
				return strings.HasSuffix(s, "]") || strings.HasSuffix(s, ":")
			}, 10*time.Second, done) {
				ts.Fatalf("ptykeys: no question on the screen:\n%s", scr)
			}
			press(rest + "\r")
		case "exec":
			// Another command while the page is open, as from a second
			// terminal; it must succeed.
			other := ptyCommand(ts, strings.Fields(os.Expand(rest, ts.Getenv)))
			if b, err := other.CombinedOutput(); err != nil {
				ts.Fatalf("ptykeys: exec %s: %v\n%s", rest, err, b)
			}
		case "snap":
			fmt.Fprintf(&out, "--- screen ---\n%s\n--- end ---\n", scr)
		default:
			ts.Fatalf("ptykeys: unknown step %q", line)
		}
	}
	select {
	case err = <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		err = <-exited
		fmt.Fprintf(&out, "[killed: still running 20 s after the last key]\n")
	}
	<-done
	f.Close()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	fmt.Fprintf(&out, "--- final screen ---\n%s\n--- end ---\n[colours %d]\n", scr, scr.colours())
	asked := scr.asked()
	fmt.Fprintf(&out, "[queries %d]\n", len(asked))
	for _, q := range asked {
		fmt.Fprintf(&out, "  %q\n", q)
	}
	fmt.Fprintf(&out, "[exit %d]\n", code)
	fmt.Fprint(ts.Stdout(), out.String())
	if (code != 0) != neg {
		ts.Fatalf("ptykeys: exit %d", code)
	}
}

// settle waits until the program answered a key (the screen was sent
// something after before, or two seconds passed) and then went quiet for a
// moment, so keys arrive one at a time, as a person types them.
func settle(scr *screen, before int, done <-chan struct{}) {
	waitFor(func() bool { return scr.written() > before }, 2*time.Second, done)
	for last := -1; ; {
		n := scr.written()
		if n == last {
			return
		}
		last = n
		select {
		case <-done:
			return
		case <-time.After(60 * time.Millisecond):
		}
	}
}

// waitFor polls cond until it holds (true), the time is up or the program
// ended (cond's last answer).
func waitFor(cond func() bool, limit time.Duration, done <-chan struct{}) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-done:
			return cond()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// cmdPtyQuiet runs a command on a pseudo-terminal (40 × 80,
// TERM=xterm-256color, stdin, stdout and stderr all the terminal) that
// types nothing and never answers a query, and fails unless the command
// ends within the time given (default 3 s; a program waiting for an answer
// would wait longer):
//
//	ptyquiet [-within 3s] impactctl version
//
// It prints what the terminal showed, then "[escapes N]" (how many escape
// sequences it was sent), "[queries N]" (how many of them asked the
// terminal something; each follows, quoted) and "[exit N]".
func cmdPtyQuiet(ts *testscript.TestScript, neg bool, args []string) {
	within := 3 * time.Second
	if len(args) > 1 && args[0] == "-within" {
		d, err := time.ParseDuration(args[1])
		if err != nil || d <= 0 {
			ts.Fatalf("ptyquiet: -within wants a duration")
		}
		within, args = d, args[2:]
	}
	if len(args) < 1 {
		ts.Fatalf("usage: ptyquiet [-within D] command [args...]")
	}
	cmd := ptyCommand(ts, args)
	cmd.Env = append(cmd.Env, "TERM=xterm-256color")
	scr := newScreen(40, 80)
	start := time.Now()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 80})
	ts.Check(err)
	done := make(chan struct{})
	go func() {
		io.Copy(scr, f)
		close(done)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(within):
		cmd.Process.Kill()
		<-exited
		<-done
		f.Close()
		ts.Fatalf("ptyquiet: still running after %v on a terminal that never answers; it was sent %q:\n%s", within, scr.asked(), scr)
	}
	took := time.Since(start)
	<-done
	f.Close()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	asked := scr.asked()
	fmt.Fprintf(ts.Stdout(), "%s\n[escapes %d]\n[queries %d]\n", scr, scr.escapeCount(), len(asked))
	for _, q := range asked {
		fmt.Fprintf(ts.Stdout(), "  %q\n", q)
	}
	fmt.Fprintf(ts.Stdout(), "[exit %d]\n", code)
	ts.Logf("ptyquiet: %s ended in %v", strings.Join(args, " "), took.Round(time.Millisecond))
	if (code != 0) != neg {
		ts.Fatalf("ptyquiet: exit %d", code)
	}
}
