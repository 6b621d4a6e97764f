package service

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// The server's own lifecycle events: expiry_warning 14 days and 1 day before a
// token's ExpiresAt, expired once it has passed, and overlap_ended when an overlap's
// previous secret runs out. Each is written once: the token's mark (or its cleared
// previous-secret slot) is set in the transaction that writes the event, and that
// transaction re-reads the token after taking the account's write lock, as every
// change does, so a second replica finds the mark set and writes nothing.
const (
	warnEarly = 14 * 24 * 60 * 60 // seconds before ExpiresAt: the first warning
	warnLate  = 24 * 60 * 60      // and the last
)

// DefaultNoticeEvery is how often a server looks for lifecycle events that are due.
const DefaultNoticeEvery = time.Minute

// noticeBatch is how many due tokens one look takes: small, so a pass never holds
// an account's writes long.
const noticeBatch = 100

// notice applies to t the next lifecycle event due at now, if any: it sets the mark
// (or clears the previous-secret slot) and says which event to write. An overlap
// that has run out goes first. Of the expiry events only the latest due is written:
// it marks the earlier ones as told, so a token found expired is not warned after.
func notice(t *Token, now int64) (typ string, extra EventExtra, ok bool) {
	if t.OverlapExpires.Valid && now >= t.OverlapExpires.V {
		at := t.OverlapExpires.V
		t.ClearOverlap()
		t.Version++ // the token reads differently: PreviousAuthTokenExpiresAt is null
		return EvOverlapEnded, EventExtra{PreviousAuthTokenExpiresAt: &at}, true
	}
	if !t.ExpiresAt.Valid || t.ExpiredNoted.Valid {
		return "", EventExtra{}, false
	}
	exp := t.ExpiresAt.V
	mark := Some(now)
	extra = EventExtra{ExpiresAt: &exp}
	switch {
	case now >= exp:
		t.ExpiredNoted = mark
		typ = EvExpired
	case now >= exp-warnLate && !t.Warned1d.Valid:
		typ = EvExpiryWarning
	case now >= exp-warnEarly && !t.Warned14d.Valid:
		t.Warned14d = mark
		return EvExpiryWarning, extra, true
	default:
		return "", EventExtra{}, false
	}
	if !t.Warned1d.Valid {
		t.Warned1d = mark
	}
	if !t.Warned14d.Valid {
		t.Warned14d = mark
	}
	return typ, extra, true
}

// noteAccount writes the lifecycle events due on sids of one account, in one write
// transaction: it takes the account's lock as every change does, then re-reads the
// tokens, so an event another replica wrote meanwhile is not written again. On
// PostgreSQL an account whose lock another transaction holds is skipped (SKIP
// LOCKED) until the next look; on SQLite the one writer takes its turn.
func (s *Rules) noteAccount(ctx context.Context, accountID int64, sids []string) (int, error) {
	n := 0
	update := func(fn func(tx Tx) error) error { return s.st.Update(ctx, accountID, fn) }
	if b, ok := s.st.(interface {
		UpdateUnlessBusy(ctx context.Context, accountID int64, fn func(tx Tx) error) (bool, error)
	}); ok {
		update = func(fn func(tx Tx) error) error {
			_, err := b.UpdateUnlessBusy(ctx, accountID, fn)
			return err
		}
	}
	err := update(func(tx Tx) error {
		n = 0
		x := &WriteTx{Tx: tx, Svc: s, Now: s.Env.Clock().Unix()}
		if sc, ok := tx.(interface{ StoreNow() (int64, bool) }); ok && !s.Env.FixedClock {
			if v, valid := sc.StoreNow(); valid {
				x.Now = v
			}
		}
		toks, err := tx.Tokens(ctx, accountID, sids)
		if err != nil {
			return err
		}
		for _, t := range toks {
			// An overlap that ran out and an expiry notice may both be due.
			changed := false
			for {
				typ, extra, ok := notice(t, x.Now)
				if !ok {
					break
				}
				if err := x.record(ctx, typ, t, nil, extra); err != nil {
					return err
				}
				changed = true
				n++
			}
			if changed {
				if err := tx.UpdateToken(ctx, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) { // the account went meanwhile
		return 0, nil
	}
	return n, err
}

// WriteNotices writes every lifecycle event due now, a batch at a time, and answers
// how many it wrote.
func (s *Rules) WriteNotices(ctx context.Context) (int, error) {
	total := 0
	for {
		var at int64
		if _, pg := s.st.(DatabaseClock); !pg || s.Env.FixedClock {
			at = s.Env.Clock().Unix()
		}
		due, err := s.st.DueNotices(ctx, at, noticeBatch)
		if err != nil {
			return total, err
		}
		wrote := 0
		for i := 0; i < len(due); {
			j := i
			var sids []string
			for ; j < len(due) && due[j].AccountID == due[i].AccountID; j++ {
				sids = append(sids, due[j].SID)
			}
			n, err := s.noteAccount(ctx, due[i].AccountID, sids)
			wrote += n
			if err != nil {
				return total + wrote, err
			}
			i = j
		}
		total += wrote
		// A full batch that wrote something may have left more due; one that wrote
		// nothing (another replica took them) waits for the next look.
		if len(due) < noticeBatch || wrote == 0 {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond): // let requests' writes through
		}
	}
}

// KeepNoticing writes the lifecycle events that are due now and then every every,
// until ctx ends.
func KeepNoticing(ctx context.Context, s *Rules, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = DefaultNoticeEvery
	}
	for {
		n, err := s.WriteNotices(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("lifecycle events", "error", err)
		} else if n > 0 {
			log.Info("lifecycle events", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
