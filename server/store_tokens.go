package server

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// token is one API token as stored.
type token struct {
	SID          string
	AccountID    int64
	Kind         string // the account's kind: kindAgency or kindBrand
	Name         string
	Description  string
	State        string
	APIVersion   int
	ContactID    sql.NullString
	ContactName  sql.NullString
	ContactEmail sql.NullString
	Emails       []string
	Scopes       []string
	SecretEnc    []byte
	SecretMAC    []byte
	Hint         string
	ResetCount   int64
	Version      int64
	Created      int64
	Updated      int64
	LastUsed     sql.NullInt64
	AuthReset    int64
	PrevMAC      []byte
	PrevExpires  sql.NullInt64
	PrevResetKey sql.NullString
}

const (
	stateEnabled  = "ENABLED"
	stateDisabled = "DISABLED"
)

func (t *token) enabled() bool { return t.State == stateEnabled }

func (t *token) hasScope(scope string) bool {
	for _, s := range t.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

const tokenSelect = `SELECT t.sid, t.account_id, a.kind, t.name, t.description, t.state, t.api_version,
	t.primary_contact_id, u.name, u.email, t.developer_emails, t.scopes, t.secret_enc, t.secret_mac,
	t.secret_hint, t.reset_count, t.version, t.date_created, t.date_updated, t.date_last_used,
	t.date_auth_token_reset, t.prev_secret_mac, t.prev_expires, t.prev_reset_key
	FROM tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN users u ON u.id = t.primary_contact_id`

func scanToken(row interface{ Scan(...any) error }) (*token, error) {
	var t token
	var emails, scopes string
	err := row.Scan(&t.SID, &t.AccountID, &t.Kind, &t.Name, &t.Description, &t.State, &t.APIVersion,
		&t.ContactID, &t.ContactName, &t.ContactEmail, &emails, &scopes, &t.SecretEnc, &t.SecretMAC,
		&t.Hint, &t.ResetCount, &t.Version, &t.Created, &t.Updated, &t.LastUsed, &t.AuthReset,
		&t.PrevMAC, &t.PrevExpires, &t.PrevResetKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	if err := json.Unmarshal([]byte(emails), &t.Emails); err != nil {
		return nil, fmt.Errorf("read token %s emails: %w", t.SID, err)
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("read token %s scopes: %w", t.SID, err)
	}
	if t.Emails == nil {
		t.Emails = []string{}
	}
	if t.Scopes == nil {
		t.Scopes = []string{}
	}
	return &t, nil
}

// tokenBySID finds any token by SID (authentication).
func (s *Store) tokenBySID(ctx context.Context, q querier, sid string) (*token, error) {
	return scanToken(q.QueryRowContext(ctx, tokenSelect+` WHERE t.sid = ?`, sid))
}

// tokenOf finds token sid within account accountID; another account's token is errNotFound.
func (s *Store) tokenOf(ctx context.Context, q querier, accountID int64, sid string) (*token, error) {
	return scanToken(q.QueryRowContext(ctx, tokenSelect+` WHERE t.account_id = ? AND t.sid = ?`, accountID, sid))
}

// tokenFilter narrows a token list; zero fields do not filter.
type tokenFilter struct {
	State          string
	Name           string // case-insensitive substring
	CreatedAfter   time.Time
	CreatedBefore  time.Time
	LastUsedBefore time.Time // never-used tokens match too
	ResetBefore    time.Time
}

func (f tokenFilter) where(accountID int64) (string, []any) {
	conds := []string{"t.account_id = ?"}
	args := []any{accountID}
	if f.State != "" {
		conds = append(conds, "t.state = ?")
		args = append(args, f.State)
	}
	if f.Name != "" {
		conds = append(conds, "instr(lower(t.name), lower(?)) > 0")
		args = append(args, f.Name)
	}
	if !f.CreatedAfter.IsZero() {
		conds = append(conds, "t.date_created >= ?")
		args = append(args, f.CreatedAfter.Unix())
	}
	if !f.CreatedBefore.IsZero() {
		conds = append(conds, "t.date_created < ?")
		args = append(args, f.CreatedBefore.Unix())
	}
	if !f.LastUsedBefore.IsZero() {
		conds = append(conds, "(t.date_last_used IS NULL OR t.date_last_used < ?)")
		args = append(args, f.LastUsedBefore.Unix())
	}
	if !f.ResetBefore.IsZero() {
		conds = append(conds, "t.date_auth_token_reset < ?")
		args = append(args, f.ResetBefore.Unix())
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// tokens lists an account's tokens in the stable order DateCreated, then SID.
func (s *Store) tokens(ctx context.Context, accountID int64, f tokenFilter, p page) ([]token, int, error) {
	where, args := f.where(accountID)
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tokens t`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tokens: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, tokenSelect+where+` ORDER BY t.date_created, t.sid LIMIT ? OFFSET ?`,
		append(args, p.Size, p.offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list tokens: %w", err)
	}
	return out, total, nil
}

// secret decrypts a token's current secret.
func (s *Store) secret(t *token) (string, error) {
	plain, err := s.keys.open(t.SecretEnc, t.SID)
	if err != nil {
		return "", fmt.Errorf("token %s secret: %w", t.SID, err)
	}
	return string(plain), nil
}

// setSecret gives t a fresh secret (encrypted, its HMAC and hint) and returns it.
func (s *Store) setSecret(t *token) (string, error) {
	secret, err := s.rand.secret()
	if err != nil {
		return "", err
	}
	enc, err := s.keys.seal([]byte(secret), t.SID)
	if err != nil {
		return "", err
	}
	t.SecretEnc, t.SecretMAC, t.Hint = enc, s.keys.mac(secret), secret[len(secret)-4:]
	return secret, nil
}

// secretMatches compares in constant time; t nil (an unknown SID) still spends a compare.
func (s *Store) secretMatches(t *token, secret string) bool {
	mac := s.keys.mac(secret)
	if t == nil {
		hmac.Equal(mac, s.keys.dummyMAC)
		return false
	}
	return hmac.Equal(mac, t.SecretMAC)
}

// insertToken stores a new token.
func (s *Store) insertToken(ctx context.Context, q querier, t *token) error {
	emails, scopes, err := marshalLists(t)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO tokens (sid, account_id, name, description, state, api_version,
		primary_contact_id, developer_emails, scopes, secret_enc, secret_mac, secret_hint, reset_count, version,
		date_created, date_updated, date_last_used, date_auth_token_reset)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.SID, t.AccountID, t.Name, t.Description, t.State, t.APIVersion, t.ContactID, emails, scopes,
		t.SecretEnc, t.SecretMAC, t.Hint, t.ResetCount, t.Version, t.Created, t.Updated, t.LastUsed, t.AuthReset)
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// updateToken writes every mutable column of t.
func (s *Store) updateToken(ctx context.Context, q querier, t *token) error {
	emails, scopes, err := marshalLists(t)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE tokens SET name = ?, description = ?, state = ?, api_version = ?,
		primary_contact_id = ?, developer_emails = ?, scopes = ?, secret_enc = ?, secret_mac = ?, secret_hint = ?,
		reset_count = ?, version = ?, date_updated = ?, date_auth_token_reset = ?, prev_secret_mac = ?,
		prev_expires = ?, prev_reset_key = ? WHERE sid = ?`,
		t.Name, t.Description, t.State, t.APIVersion, t.ContactID, emails, scopes, t.SecretEnc, t.SecretMAC,
		t.Hint, t.ResetCount, t.Version, t.Updated, t.AuthReset, t.PrevMAC, t.PrevExpires, t.PrevResetKey, t.SID)
	if err != nil {
		return fmt.Errorf("update token %s: %w", t.SID, err)
	}
	return nil
}

func (s *Store) deleteToken(ctx context.Context, q querier, sid string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM tokens WHERE sid = ?`, sid); err != nil {
		return fmt.Errorf("delete token %s: %w", sid, err)
	}
	return nil
}

// touch records a use, at most once a minute per token, outside any edit: it never
// changes the ETag.
func (s *Store) touch(ctx context.Context, t *token) error {
	now := s.clock().Unix()
	if t.LastUsed.Valid && now-t.LastUsed.Int64 < 60 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET date_last_used = ?
		WHERE sid = ? AND (date_last_used IS NULL OR date_last_used <= ?)`, now, t.SID, now-60)
	if err != nil {
		return fmt.Errorf("record use of %s: %w", t.SID, err)
	}
	t.LastUsed = sql.NullInt64{Int64: now, Valid: true}
	return nil
}

// writers counts an account's enabled tokens holding apitokens.write.
func (s *Store) writers(ctx context.Context, q querier, accountID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM tokens t WHERE t.account_id = ? AND t.state = 'ENABLED'
		AND EXISTS (SELECT 1 FROM json_each(t.scopes) WHERE value = ?)`, accountID, scopeTokensWrite).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count writers: %w", err)
	}
	return n, nil
}

func marshalLists(t *token) (string, string, error) {
	if t.Emails == nil {
		t.Emails = []string{}
	}
	if t.Scopes == nil {
		t.Scopes = []string{}
	}
	e, err := json.Marshal(t.Emails)
	if err != nil {
		return "", "", fmt.Errorf("encode emails: %w", err)
	}
	sc, err := json.Marshal(t.Scopes)
	if err != nil {
		return "", "", fmt.Errorf("encode scopes: %w", err)
	}
	return string(e), string(sc), nil
}
