package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// authTokenSelect finds the token a SID names or, when there is none, a stand-in
// (the token with the lowest SID): one query that reads one row either way.
const authTokenSelect = tokenSelect + ` WHERE t.sid = ? UNION ALL ` + tokenSelect +
	` WHERE t.sid = (SELECT min(sid) FROM tokens) LIMIT 1`

// authRow is a token read for authentication, its lists still undecoded: decoding
// them is the costly part of reading a token, and it waits until the secret matched.
type authRow struct {
	token
	emails, scopes string
}

// tokenForAuth finds the token sid names for authentication at the same cost
// whether or not it exists: a row of the same shape is read either way (the stand-in
// for an unknown SID), and neither is decoded further before the secret is compared.
// So a wrong secret for a known SID and any secret for an unknown one take the same
// time, and response times do not tell which SIDs exist. nil means no such token.
func (s *Store) tokenForAuth(ctx context.Context, sid string) (*authRow, error) {
	var a authRow
	t := &a.token
	err := s.db.QueryRowContext(ctx, authTokenSelect, sid).Scan(&t.SID, &t.AccountID, &t.Kind, &t.Name,
		&t.Description, &t.State, &t.APIVersion, &t.ContactID, &t.ContactName, &t.ContactEmail, &a.emails,
		&a.scopes, &t.SecretEnc, &t.SecretMAC, &t.Hint, &t.ResetCount, &t.Version, &t.Created, &t.Updated,
		&t.LastUsed, &t.AuthReset, &t.PrevMAC, &t.PrevExpires, &t.PrevResetKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // no tokens at all
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	if t.SID != sid {
		return nil, nil
	}
	return &a, nil
}

// decode finishes reading the token, once its secret has matched.
func (a *authRow) decode() (*token, error) {
	t := &a.token
	if err := json.Unmarshal([]byte(a.emails), &t.Emails); err != nil {
		return nil, fmt.Errorf("read token %s emails: %w", t.SID, err)
	}
	if err := json.Unmarshal([]byte(a.scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("read token %s scopes: %w", t.SID, err)
	}
	if t.Emails == nil {
		t.Emails = []string{}
	}
	if t.Scopes == nil {
		t.Scopes = []string{}
	}
	return t, nil
}
