//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenNoFollowKeepsTheSystemError: a refused link reads as the system's
// error and is still that error to errors.Is.
func TestOpenNoFollowKeepsTheSystemError(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(dir, link))
	_, err := OpenNoFollow(link, os.O_RDONLY, 0)
	if !errors.Is(err, ErrIsLink) || !errors.Is(err, syscall.ELOOP) || !strings.Contains(err.Error(), link) {
		t.Errorf("%v: want ErrIsLink, ELOOP and the path", err)
	}
}

// TestOpenNoFollowFIFO: a FIFO nobody writes to does not hang the open; the
// descriptor then shows it is no regular file.
func TestOpenNoFollowFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := OpenNoFollow(path, os.O_RDONLY, 0)
		if err == nil {
			fi, serr := f.Stat()
			f.Close()
			if serr == nil {
				if u := Check(fi, Rule{Type: Regular}); u == nil || u.Problem != WrongType {
					err = errors.New("a FIFO passed as a regular file")
				}
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO hung")
	}
}
