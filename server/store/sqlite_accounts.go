package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/impactcom/impactctl/server/service"
)

const accountColumns = `id, kind, parent_id, public_id, name, state, website, phone, phone_country,
	currency, timezone, organization_type, address_line1, address_line2, city, region, postal_code,
	country, date_created`

func scanAccount(row interface{ Scan(...any) error }) (*service.Account, error) {
	var a service.Account
	err := row.Scan(&a.ID, &a.Kind, scanOpt(&a.ParentID), &a.PublicID, &a.Name, &a.State, &a.Website, &a.Phone,
		&a.PhoneCountry, &a.Currency, &a.Timezone, &a.OrgType, &a.Address1, &a.Address2, &a.City,
		&a.Region, &a.PostalCode, &a.Country, &a.Created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, service.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

// Account finds an account by its row id. Accounts never change once made, so
// each is read once and then kept: it is on the path of every request.
func (s *SQLiteStore) Account(ctx context.Context, id int64) (*service.Account, error) {
	return s.accounts.get(id, func() (*service.Account, error) {
		return scanAccount(s.rs.account.QueryRowContext(ctx, id))
	})
}

func (s *SQLiteStore) AccountByPublicID(ctx context.Context, publicID string) (*service.Account, error) {
	return scanAccount(s.rs.accountByPublic.QueryRowContext(ctx, publicID))
}

// ManagedBrand finds the brand with impact.com Id publicID managed by agency agencyID;
// a brand of another agency is errNotFound, exactly like one that does not exist.
func (s *SQLiteStore) ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*service.Account, error) {
	return scanAccount(s.rs.managedBrand.QueryRowContext(ctx, agencyID, publicID))
}

// Brands lists an agency's brands by Id, one page and the total from one read.
func (s *SQLiteStore) Brands(ctx context.Context, agencyID int64, p service.Page) (out []service.Account, total int, err error) {
	err = s.view(ctx, func(tx *sql.Tx) error {
		out, total, err = listBrands(ctx, sqliteDialect, tx, agencyID, p)
		return err
	})
	return out, total, err
}

// Users lists an account's users by Id, one page and the total from one read.
func (s *SQLiteStore) Users(ctx context.Context, accountID int64, p service.Page) (out []service.User, total int, err error) {
	err = s.view(ctx, func(tx *sql.Tx) error {
		out, total, err = listUsers(ctx, sqliteDialect, tx, accountID, p)
		return err
	})
	return out, total, err
}

// view runs fn in one read transaction on the readers: everything it reads is one
// snapshot.
func (s *SQLiteStore) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.Readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// User finds user id within account accountID; a user of another account is errNotFound.
func (x *sqliteTx) User(ctx context.Context, accountID int64, id string) (*service.User, error) {
	var u service.User
	err := x.stmt(ctx, x.s.ws.userOf).QueryRowContext(ctx, accountID, id).Scan(&u.ID, &u.AccountID, &u.Name, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, service.ErrNotFound
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

func (x *sqliteTx) InsertAccount(ctx context.Context, a *service.Account) (int64, error) {
	res, err := x.tx.ExecContext(ctx, `INSERT INTO accounts (kind, parent_id, public_id, name, state, website, phone,
		phone_country, currency, timezone, organization_type, address_line1, address_line2, city, region,
		postal_code, country, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Kind, bindOpt(a.ParentID), a.PublicID, a.Name, a.State, a.Website, a.Phone, a.PhoneCountry, a.Currency,
		a.Timezone, a.OrgType, a.Address1, a.Address2, a.City, a.Region, a.PostalCode, a.Country, a.Created)
	if err != nil {
		return 0, fmt.Errorf("account %s: %w", a.Name, err)
	}
	return res.LastInsertId()
}

func (x *sqliteTx) InsertUser(ctx context.Context, u *service.User) error {
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
	return readDemoRoles(ctx, s.Readers)
}

// Seeded answers how the database was first filled (see readSeeded).
func (s *SQLiteStore) Seeded(ctx context.Context) (string, error) { return readSeeded(ctx, s.Readers) }
