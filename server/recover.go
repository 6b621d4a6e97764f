package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// ErrNoAccount is Recover's answer for an account that does not exist.
var ErrNoAccount = errors.New("no such account")

// Recovered is the token Recover made.
type Recovered struct {
	AccountSid string // the new token's SID
	AuthToken  string // its secret
	Account    string // the account's impact.com Id
}

// recoveredName is the name of the token Recover makes.
const recoveredName = "Recovered admin"

// Recover mends an account that has no manager: it creates an enabled token named
// "Recovered admin" holding every scope of the account's catalog. ref is the
// account's numeric Id (as CompanyInformation shows it) or the SID of any of its
// tokens; ErrNoAccount when neither finds one. It works on the store directly, with
// no caller: whoever can open the database (and its key) is trusted.
func Recover(ctx context.Context, st service.Store, env *service.Env, ref string) (*Recovered, error) {
	var acct *service.Account
	var err error
	if contract.ValidSID(ref) {
		var t *service.Token
		if t, err = st.TokenBySID(ctx, ref); err == nil {
			acct, err = st.Account(ctx, t.AccountID)
		}
	} else {
		acct, err = st.AccountByPublicID(ctx, ref)
	}
	if errors.Is(err, service.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q is neither an account Id nor the SID of a token", ErrNoAccount, ref)
	}
	if err != nil {
		return nil, err
	}
	s := service.NewRules(st, env)
	scopes := service.AllScopes(acct.Kind)
	var secret string
	var t *service.Token
	err = st.Update(ctx, acct.ID, func(tx service.Tx) error {
		t = &service.Token{AccountID: acct.ID, Kind: acct.Kind, Name: recoveredName, APIVersion: service.LatestVersion(acct.Kind),
			Emails: []string{}, Scopes: append([]string{}, scopes...)}
		x := &service.WriteTx{Tx: tx, Svc: s, Call: &service.Call{Caller: t, Account: acct, ActorName: service.AdminRecoverActor}, Now: s.Env.Clock().Unix()}
		out, err := x.InsertRecorded(ctx, t, service.EvRecovered, service.EventExtra{})
		secret = out.Secret
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recover account %s: %w", acct.PublicID, err)
	}
	return &Recovered{AccountSid: t.SID, AuthToken: secret, Account: acct.PublicID}, nil
}
