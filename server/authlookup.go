package server

import (
	"context"
	"errors"
)

// tokenForAuth finds the token sid names for authentication, at the same cost whether
// or not it exists: one query that reads and decodes one row either way, the token
// asked for or, when there is none, a stand-in (the token with the lowest SID). Told
// apart only afterwards, a known SID with a wrong secret and an unknown SID take the
// same time, so response times do not reveal which SIDs exist. nil means no such
// token.
func (s *Store) tokenForAuth(ctx context.Context, sid string) (*token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, tokenSelect+`
		WHERE t.sid IN (?, (SELECT min(sid) FROM tokens)) ORDER BY t.sid = ? DESC LIMIT 1`, sid, sid))
	if errors.Is(err, errNotFound) {
		return nil, nil // no tokens at all
	}
	if err != nil {
		return nil, err
	}
	if t.SID != sid {
		return nil, nil
	}
	return t, nil
}
