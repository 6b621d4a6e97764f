package commands

import (
	"crypto/rand"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// secretFlags say where a new Auth Token goes.
type secretFlags struct {
	File   string
	Dir    string
	Reveal bool
	bulk   bool
}

func (s *secretFlags) register(cmd *cobra.Command, bulk bool) {
	s.bulk = bulk
	cmd.Flags().StringVar(&s.File, "secret-file", "", "write the new Auth Token to this file (0600, atomically)")
	if bulk {
		cmd.Flags().StringVar(&s.Dir, "secret-dir", "", "write each new Auth Token to DIR/<SID> (0600)")
	}
	cmd.Flags().BoolVar(&s.Reveal, "reveal", false, "print the new Auth Token on stdout")
}

// check refuses, before anything changes, a command that has nowhere to put
// a new secret: told nothing and not on a terminal (where stdout is the
// default), it exits 2. It also proves the destination writable, so a
// secret is never created only to be lost.
func (s *secretFlags) check(io *IOStreams) error {
	given := 0
	for _, set := range []bool{s.File != "", s.Dir != "", s.Reveal} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return usageErrorf("choose one destination for the new Auth Token: --secret-file, --secret-dir or --reveal")
	case given == 0 && io.CanPrompt():
		// A person at a terminal; never a CI job, even one with a terminal.
		s.Reveal = true
	case given == 0:
		return usageErrorf("the new Auth Token needs a destination (stdout is the default only for a person at a terminal): pass --secret-file PATH%s or --reveal; nothing changed", map[bool]string{true: ", --secret-dir DIR", false: ""}[s.bulk])
	}
	if s.File != "" {
		if st, err := os.Lstat(s.File); err == nil && !st.Mode().IsRegular() {
			return usageErrorf("--secret-file %s is not a regular file (a directory, link or device): name a new or regular file; nothing changed", s.File)
		}
		return probeWritable(filepath.Dir(s.File))
	}
	if s.Dir != "" {
		if err := os.MkdirAll(s.Dir, 0o700); err != nil {
			return usageErrorf("--secret-dir: %w", err)
		}
		return probeWritable(s.Dir)
	}
	return nil
}

// probeWritable fails when dir cannot take a new file.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".impactctl-probe-*")
	if err != nil {
		return usageErrorf("cannot write the new Auth Token there: %w; nothing changed", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// save writes a secret to its file, if one was named; it reports where.
func (s *secretFlags) save(sid, secret string) (string, error) {
	path := s.File
	if s.Dir != "" {
		path = filepath.Join(s.Dir, sid)
	}
	if path == "" {
		return "", nil
	}
	if err := writeFileAtomic(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// newIdempotencyKey makes a key for a POST when the user gave none, so a
// retry or a re-run with the same key changes nothing twice.
func newIdempotencyKey() string { return "impactctl-" + rand.Text() }
