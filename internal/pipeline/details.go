package pipeline

import (
	"fmt"
	"strings"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// TokenDetails are the lines of `tokens show` for people.
func TokenDetails(t *client.Token) [][2]string {
	secret := output.Hint(t.AuthTokenHint)
	if t.AuthToken != "" {
		secret = t.AuthToken
	}
	version := fmt.Sprint(t.ApiVersion)
	if t.LatestApiVersion > t.ApiVersion {
		version += fmt.Sprintf(" (latest is %d)", t.LatestApiVersion)
	}
	return [][2]string{
		{"Account SID", t.AccountSid},
		{"Name", t.Name},
		{"Description", t.Description},
		{"State", string(t.State)},
		{"API version", version},
		{"Auth Token", secret},
		{"Primary contact", UserLabel(t.PrimaryContact)},
		{"Developer emails", strings.Join(t.DeveloperEmails, ", ")},
		{"Scopes", strings.Join(t.Scopes, ", ")},
		{"Created", t.DateCreated},
		{"Updated", t.DateUpdated},
		{"Last used", orNever(cmdutil.Deref(t.DateLastUsed))},
		{"Auth Token reset", orNever(cmdutil.Deref(t.DateAuthTokenReset))},
		{"Expires", ExpiresDetail(t.ExpiresAt)},
		{"Previous Auth Token", previousDetail(t)},
	}
}

// previousDetail says until when an overlap's previous secret works, and
// when it was last used.
func previousDetail(t *client.Token) string {
	if t.PreviousAuthTokenExpiresAt == nil {
		return "none"
	}
	return fmt.Sprintf("works until %s; last used %s", *t.PreviousAuthTokenExpiresAt, orNever(cmdutil.Deref(t.PreviousAuthTokenLastUsed)))
}

func UserLabel(u *client.User) string {
	if u == nil {
		return "none"
	}
	if u.Name == "" && u.Email == "" {
		return u.Id
	}
	return fmt.Sprintf("%s <%s> (%s)", u.Name, u.Email, u.Id)
}

func orNever(ts string) string {
	if ts == "" {
		return "never"
	}
	return ts
}
