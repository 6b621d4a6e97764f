package commands

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// tokenFields are the editable fields as flags; set tells which were given.
type tokenFields struct {
	Name           string
	Description    string
	APIVersion     string
	PrimaryContact string
	set            func(name string) bool
}

func (t *tokenFields) register(cmd *cobra.Command, editing bool) {
	fl := cmd.Flags()
	fl.StringVar(&t.Name, "name", "", "the token's name")
	if editing {
		fl.StringVar(&t.Description, "description", "", `the token's description ("" clears it)`)
		fl.StringVar(&t.APIVersion, "api-version", "", "API version N, or latest (versions only go up)")
		fl.StringVar(&t.PrimaryContact, "primary-contact", "", `primary contact: a user's ID or e-mail ("" removes it)`)
	} else {
		fl.StringVar(&t.Description, "description", "", "the token's description")
		fl.StringVar(&t.APIVersion, "api-version", "", "API version N, or latest (the default)")
		fl.StringVar(&t.PrimaryContact, "primary-contact", "", "primary contact: a user's ID or e-mail")
	}
	t.set = func(name string) bool { return fl.Changed(name) }
}

// check refuses, before any request, the values the server would refuse:
// the limits and characters of contract.
func (t *tokenFields) check() error {
	if t.set("name") {
		if err := checkText("--name", t.Name, true, contract.MaxName); err != nil {
			return err
		}
	}
	if t.set("description") {
		if err := checkText("--description", t.Description, false, contract.MaxDescription); err != nil {
			return err
		}
	}
	return nil
}

func registerChangeFlags(c *pipeline.ChangeFlags, cmd *cobra.Command) {
	cmd.Flags().BoolVar(&c.DryRun, "dry-run", false, "show what would change and change nothing")
	cmd.Flags().StringVar(&c.IdempotencyKey, "idempotency-key", "", "a key that makes a re-run of the same job change nothing twice")
}

// wantedVersion reads --api-version: N or latest; versions only go up.
func wantedVersion(tok *client.Token, s string) (int, error) {
	if strings.EqualFold(s, "latest") {
		return max(tok.LatestApiVersion, tok.ApiVersion), nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, cmdutil.UsageErrorf("invalid --api-version %q: use a number or latest", s)
	}
	if v < tok.ApiVersion {
		return 0, cmdutil.UsageErrorf("invalid --api-version %d: token %s is at version %d and versions only go up", v, tok.AccountSid, tok.ApiVersion)
	}
	if tok.LatestApiVersion > 0 && v > tok.LatestApiVersion {
		return 0, cmdutil.UsageErrorf("invalid --api-version %d: the latest version for this token is %d", v, tok.LatestApiVersion)
	}
	return v, nil
}

func contactID(u *client.User) string {
	if u == nil {
		return ""
	}
	return u.Id
}

// findUser resolves a primary contact given as a user ID or an e-mail
// address among the account's users, so a contact that does not exist is
// refused before the question. Without users.read an e-mail cannot be
// resolved; an ID is then sent as it is and the server checks it.
func findUser(ctx context.Context, c *client.Client, idOrEmail string) (*client.User, error) {
	byEmail := strings.Contains(idOrEmail, "@")
	for u, err := range c.Users(ctx, client.ListOptions{}) {
		if err != nil {
			if ae, ok := cmdutil.AsAPIError(err); ok && ae.StatusCode == http.StatusForbidden && !byEmail {
				return &client.User{Id: idOrEmail}, nil
			}
			return nil, fmt.Errorf("looking up the primary contact: %w", err)
		}
		if byEmail && strings.EqualFold(u.Email, idOrEmail) || !byEmail && u.Id == idOrEmail {
			return &u, nil
		}
	}
	return nil, cmdutil.UsageErrorf("no user %q in this account: see `impactctl users list` for the primary-contact choices; nothing changed", idOrEmail)
}
