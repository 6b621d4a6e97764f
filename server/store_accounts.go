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

// Account finds an account by its row id. Accounts never change once made, so
// each is read once and then kept: it is on the path of every request.
func (s *SQLiteStore) Account(ctx context.Context, id int64) (*account, error) {
	if a, ok := s.accounts.Load(id); ok {
		c := *a.(*account)
		return &c, nil
	}
	a, err := scanAccount(s.rs.account.QueryRowContext(ctx, id))
	if err != nil {
		return nil, err
	}
	c := *a
	s.accounts.Store(id, &c)
	return a, nil
}

func (s *SQLiteStore) AccountByPublicID(ctx context.Context, publicID string) (*account, error) {
	return scanAccount(s.rs.accountByPublic.QueryRowContext(ctx, publicID))
}

// ManagedBrand finds the brand with impact.com Id publicID managed by agency agencyID;
// a brand of another agency is errNotFound, exactly like one that does not exist.
func (s *SQLiteStore) ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*account, error) {
	return scanAccount(s.rs.managedBrand.QueryRowContext(ctx, agencyID, publicID))
}

// Brands lists an agency's brands by Id, one page and the total from one read.
func (s *SQLiteStore) Brands(ctx context.Context, agencyID int64, p page) ([]account, int, error) {
	var out []account
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE parent_id = ?`, agencyID).Scan(&total); err != nil {
			return fmt.Errorf("count brands: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE parent_id = ?
			ORDER BY length(public_id), public_id LIMIT ? OFFSET ?`, agencyID, p.Size, p.offset())
		if err != nil {
			return fmt.Errorf("list brands: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
		return rows.Err()
	})
	return out, total, err
}

// Users lists an account's users by Id, one page and the total from one read.
func (s *SQLiteStore) Users(ctx context.Context, accountID int64, p page) ([]user, int, error) {
	var out []user
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE account_id = ?`, accountID).Scan(&total); err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, account_id, name, email FROM users WHERE account_id = ?
			ORDER BY length(id), id LIMIT ? OFFSET ?`, accountID, p.Size, p.offset())
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u user
			if err := rows.Scan(&u.ID, &u.AccountID, &u.Name, &u.Email); err != nil {
				return fmt.Errorf("list users: %w", err)
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, total, err
}

// view runs fn in one read transaction on the readers: everything it reads is one
// snapshot.
func (s *SQLiteStore) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// User finds user id within account accountID; a user of another account is errNotFound.
func (x *sqliteTx) User(ctx context.Context, accountID int64, id string) (*user, error) {
	var u user
	err := x.stmt(ctx, x.s.ws.userOf).QueryRowContext(ctx, accountID, id).Scan(&u.ID, &u.AccountID, &u.Name, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}

func (x *sqliteTx) HasAccounts(ctx context.Context) (bool, error) {
	var n int
	if err := x.tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return false, fmt.Errorf("count accounts: %w", err)
	}
	return n > 0, nil
}

func (x *sqliteTx) InsertAccount(ctx context.Context, a *account) (int64, error) {
	res, err := x.tx.ExecContext(ctx, `INSERT INTO accounts (kind, parent_id, public_id, name, state, website, phone,
		phone_country, currency, timezone, organization_type, address_line1, address_line2, city, region,
		postal_code, country, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Kind, a.ParentID, a.PublicID, a.Name, a.State, a.Website, a.Phone, a.PhoneCountry, a.Currency,
		a.Timezone, a.OrgType, a.Address1, a.Address2, a.City, a.Region, a.PostalCode, a.Country, a.Created)
	if err != nil {
		return 0, fmt.Errorf("account %s: %w", a.Name, err)
	}
	return res.LastInsertId()
}

func (x *sqliteTx) InsertUser(ctx context.Context, u *user) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO users (id, account_id, name, email) VALUES (?, ?, ?, ?)`,
		u.ID, u.AccountID, u.Name, u.Email); err != nil {
		return fmt.Errorf("user %s: %w", u.ID, err)
	}
	return nil
}

func (x *sqliteTx) SetDemoRole(ctx context.Context, role, sid string) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO demo_roles(role, sid) VALUES (?, ?)`, role, sid); err != nil {
		return fmt.Errorf("role %s: %w", role, err)
	}
	return nil
}

func (x *sqliteTx) SetSeeded(ctx context.Context, kind string) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('seed', ?)`, kind); err != nil {
		return fmt.Errorf("record seed: %w", err)
	}
	return nil
}

// DemoRoles maps seeded roles to the SIDs of tokens that still exist.
func (s *SQLiteStore) DemoRoles(ctx context.Context) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT r.role, t.sid FROM demo_roles r JOIN tokens t ON t.sid = r.sid`)
	if err != nil {
		return nil, fmt.Errorf("demo roles: %w", err)
	}
	defer rows.Close()
	sids := map[string]string{}
	for rows.Next() {
		var role, sid string
		if err := rows.Scan(&role, &sid); err != nil {
			return nil, fmt.Errorf("demo roles: %w", err)
		}
		sids[role] = sid
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demo roles: %w", err)
	}
	return sids, nil
}

// Seeded answers how the database was first filled: "demo", "bootstrap", or "" for
// a database filled some other way.
func (s *SQLiteStore) Seeded(ctx context.Context) (string, error) {
	var kind string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read seed: %w", err)
	}
	return kind, nil
}
