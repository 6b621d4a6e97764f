package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL the counter every replica shares (see service.Generations) is the
// sequence auth_generation: a write transaction moves it with nextval once it has
// ended, before its answer is sent; nextval is never rolled back and never waits on
// another transaction. Reading it costs a round trip, which genReader shares among
// the requests waiting at the same moment.

// genReadTimeout bounds one read of the counter, which many requests may wait on.
const genReadTimeout = 5 * time.Second

// Generation reads the counter through the shared reader; ok is false when it could
// not be read (the request then reads the store, as without copies).
func (s *PostgresStore) Generation(ctx context.Context) (uint64, bool) {
	n, err := s.gens.get(ctx)
	return n, err == nil
}

// readGeneration reads the sequence's value on pgx's own connection.
func (s *PostgresStore) readGeneration(ctx context.Context) (uint64, error) {
	var n int64
	err := s.native(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT last_value FROM auth_generation`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("read generation: %w", err)
	}
	return uint64(n), nil
}

// Changed moves the counter: every copy any replica keeps is read again. Each write
// transaction calls it once it has ended; so does opening the store, so that a
// replica that stopped between a commit and its move leaves nothing stale behind.
func (s *PostgresStore) Changed() {
	// A lost move leaves other replicas' copies at most a second old (their
	// lifetime); the answer of the write it follows stands.
	ctx, cancel := context.WithTimeout(context.Background(), genReadTimeout)
	defer cancel()
	s.DB.ExecContext(ctx, `SELECT nextval('auth_generation')`)
}

// genReader reads the counter once for every request waiting when the read is sent.
// A request never takes the answer of a read already on its way when it asked: the
// value it gets was read after it began, so it reflects every write answered before.
type genReader struct {
	read func(ctx context.Context) (uint64, error)

	mu      sync.Mutex
	sending bool      // a read is on its way
	next    *genBatch // the requests waiting for the next read, nil for none
}

// genBatch is one read and the requests waiting for it.
type genBatch struct {
	done    chan struct{}
	waiters int // requests waiting for it
	n       uint64
	err     error
}

// get waits for the next read of the counter to be sent and answered.
func (g *genReader) get(ctx context.Context) (uint64, error) {
	g.mu.Lock()
	if g.next == nil {
		g.next = &genBatch{done: make(chan struct{})}
	}
	b := g.next
	b.waiters++
	if !g.sending {
		g.sending, g.next = true, nil
		go g.send(b)
	}
	g.mu.Unlock()
	select {
	case <-b.done:
		return b.n, b.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// send reads for batch b, then for every batch that gathered meanwhile, one after
// another, until none is waiting.
func (g *genReader) send(b *genBatch) {
	for b != nil {
		ctx, cancel := context.WithTimeout(context.Background(), genReadTimeout)
		b.n, b.err = g.read(ctx)
		cancel()
		close(b.done)
		g.mu.Lock()
		b, g.next = g.next, nil
		g.sending = b != nil
		g.mu.Unlock()
	}
}
