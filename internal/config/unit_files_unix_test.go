//go:build unix

package config

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"
)

func TestConfigFIFORefused(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	path := filepath.Join(t.TempDir(), "yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// A FIFO nobody writes to would hang a plain open.
	_, err := Load(path, &bytes.Buffer{})
	cmdutiltest.WantUsage(t, err, "a named pipe, not a regular file")
}
