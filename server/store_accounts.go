package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const accountColumns = `id, kind, parent_id, public_id, name, state, website, phone, phone_country,
	currency, timezone, organization_type, address_line1, address_line2, city, region, postal_code,
	country, date_created`

func scanAccount(row interface{ Scan(...any) error }) (*account, error) {
	var a account
	err := row.Scan(&a.ID, &a.Kind, &a.ParentID, &a.PublicID, &a.Name, &a.State, &a.Website, &a.Phone,
		&a.PhoneCountry, &a.Currency, &a.Timezone, &a.OrgType, &a.Address1, &a.Address2, &a.City,
		&a.Region, &a.PostalCode, &a.Country, &a.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

func (s *SQLiteStore) account(ctx context.Context, q querier, id int64) (*account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
}

// managedBrand finds the brand with impact.com Id publicID managed by agency agencyID;
// a brand of another agency is errNotFound, exactly like one that does not exist.
func (s *SQLiteStore) managedBrand(ctx context.Context, agencyID int64, publicID string) (*account, error) {
	return scanAccount(s.db.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE kind = 'brand' AND parent_id = ? AND public_id = ?`,
		agencyID, publicID))
}

// brands lists an agency's brands by Id, one page at a time.
func (s *SQLiteStore) brands(ctx context.Context, agencyID int64, p page) ([]account, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE parent_id = ?`, agencyID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count brands: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE parent_id = ?
		ORDER BY length(public_id), public_id LIMIT ? OFFSET ?`, agencyID, p.Size, p.offset())
	if err != nil {
		return nil, 0, fmt.Errorf("list brands: %w", err)
	}
	defer rows.Close()
	var out []account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list brands: %w", err)
	}
	return out, total, nil
}

// users lists an account's users by Id, one page at a time.
func (s *SQLiteStore) users(ctx context.Context, accountID int64, p page) ([]user, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE account_id = ?`, accountID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, account_id, name, email FROM users WHERE account_id = ?
		ORDER BY length(id), id LIMIT ? OFFSET ?`, accountID, p.Size, p.offset())
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []user
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Name, &u.Email); err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return out, total, nil
}

// userOf finds user id within account accountID; a user of another account is errNotFound.
func (s *SQLiteStore) userOf(ctx context.Context, q querier, accountID int64, id string) (*user, error) {
	var u user
	err := q.QueryRowContext(ctx, `SELECT id, account_id, name, email FROM users WHERE account_id = ? AND id = ?`,
		accountID, id).Scan(&u.ID, &u.AccountID, &u.Name, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}
