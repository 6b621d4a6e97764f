package store

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/impactcom/impactctl/internal/safefile"
)

// generation is a counter that every process serving one SQLite database shares: an
// 8-byte file beside the database (its path + "-gen"), mapped into each process's
// memory. Every write transaction moves it once it has ended, before its answer is
// sent. A copy of a token read while the counter held one value is only ever used
// while it still holds that value, so a change committed by any process is seen by
// every process on the very next request (see service.Generations).
//
// Processes sharing a database share its -shm file already and so run on one
// machine; the counter lives where that holds. Where memory cannot be mapped
// (generation_other.go), there is no counter and nothing is kept between requests.
type generation struct {
	mem []byte
	n   *atomic.Uint64 // the counter, in mem
}

// genSuffix names the counter's file after the database's.
const genSuffix = "-gen"

// openGeneration maps the counter file of the database at dbPath, creating it 0600
// when absent, and moves the counter once: a process that stopped between a commit
// and its move leaves nothing stale behind in the processes still running. The file
// is checked as the database's other files are (this user's, not writable by group
// or others): whoever could write it could hold the counter still.
func openGeneration(dbPath string) (*generation, error) {
	path := dbPath + genSuffix
	f, err := safefile.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, openError("database file", path, err)
	}
	defer f.Close()
	if err := checkFile(f, path, "database file", false); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("database file %s: %w", path, err)
	}
	if fi.Size() < 8 {
		// Two processes creating it together both grow it to 8 zero bytes.
		if err := f.Truncate(8); err != nil {
			return nil, fmt.Errorf("database file %s: %w", path, err)
		}
	}
	g, err := mapGeneration(f)
	if errors.Is(err, errNoMapping) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("database file %s: %w", path, err)
	}
	g.bump()
	return g, nil
}

// errNoMapping is mapGeneration's answer where files cannot be mapped.
var errNoMapping = errors.New("no shared memory mapping here")

// load is the counter's value; a nil generation has none.
func (g *generation) load() (uint64, bool) {
	if g == nil {
		return 0, false
	}
	return g.n.Load(), true
}

// bump moves the counter: every copy read before it is stale from now on.
func (g *generation) bump() {
	if g != nil {
		g.n.Add(1)
	}
}

// close unmaps the counter; a nil generation has nothing to close.
func (g *generation) close() error {
	if g == nil {
		return nil
	}
	return unmapGeneration(g)
}
