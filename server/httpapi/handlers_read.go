package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
)

// current answers the caller's own token with its rate budget. RateLimit.Limit 0 means
// the server runs without a limit.
func (h *handler) current(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	b := bodyOf(c.Caller, OwnRoot(c.Caller), c.Now)
	prev := c.Previous
	b.UsingPreviousAuthToken = &prev
	rl := &RateBody{}
	if h.rate.Enabled() {
		bud, err := h.rate.Peek(r.Context(), c.Caller.SID)
		if err != nil {
			return err
		}
		rl = &RateBody{Limit: bud.Limit, Remaining: bud.Remaining, Reset: ratelimit.Seconds(bud.Reset)}
	}
	b.RateLimit = rl
	writeToken(w, http.StatusOK, b)
	return nil
}

type addressBody struct {
	AddressLine1 string `json:"AddressLine1"`
	AddressLine2 string `json:"AddressLine2"`
	City         string `json:"City"`
	State        string `json:"State"`
	PostalCode   string `json:"PostalCode"`
	Country      string `json:"Country"`
}

type CompanyBody struct {
	Id                        string      `json:"Id"`
	CompanyName               string      `json:"CompanyName"`
	AccountType               string      `json:"AccountType"`
	State                     string      `json:"State"`
	Website                   string      `json:"Website"`
	PrimaryPhoneNumber        string      `json:"PrimaryPhoneNumber"`
	PrimaryPhoneNumberCountry string      `json:"PrimaryPhoneNumberCountry"`
	Currency                  string      `json:"Currency"`
	TimeZone                  string      `json:"TimeZone"`
	OrganizationType          string      `json:"OrganizationType"`
	Address                   addressBody `json:"Address"`
	DateCreated               string      `json:"DateCreated"`
	Uri                       string      `json:"Uri"`
}

// company answers the addressed account's company information.
func (h *handler) company(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	a := c.Account
	typ := "AGENCY"
	if a.Kind == service.KindBrand {
		typ = "ADVERTISER"
	}
	writeJSON(w, http.StatusOK, CompanyBody{
		Id: a.PublicID, CompanyName: a.Name, AccountType: typ, State: a.State, Website: a.Website,
		PrimaryPhoneNumber: a.Phone, PrimaryPhoneNumberCountry: a.PhoneCountry, Currency: a.Currency,
		TimeZone: a.Timezone, OrganizationType: a.OrgType,
		Address: addressBody{AddressLine1: a.Address1, AddressLine2: a.Address2, City: a.City,
			State: a.Region, PostalCode: a.PostalCode, Country: a.Country},
		DateCreated: service.WireTime(a.Created),
		Uri:         c.Base + "/CompanyInformation",
	})
	return nil
}

// AdvertiserBody is impact.com's Advertiser: a managed brand.
type AdvertiserBody struct {
	Id          string `json:"Id"`
	Name        string `json:"Name"`
	State       string `json:"State"`
	Currency    string `json:"Currency"`
	TimeZone    string `json:"TimeZone"`
	Website     string `json:"Website"`
	DateCreated string `json:"DateCreated"`
	Uri         string `json:"Uri"`
}

func advertiserOf(a service.Account, base string) AdvertiserBody {
	return AdvertiserBody{Id: a.PublicID, Name: a.Name, State: a.State, Currency: a.Currency,
		TimeZone: a.Timezone, Website: a.Website, DateCreated: service.WireTime(a.Created),
		Uri: base + "/Advertisers/" + a.PublicID}
}

func (h *handler) advertisers(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		return err
	}
	list, total, err := h.svc.Brands(r.Context(), c, p)
	if err != nil {
		return err
	}
	out := make([]AdvertiserBody, 0, len(list))
	for _, a := range list {
		out = append(out, advertiserOf(a, c.Base))
	}
	return writeList(w, r, "Advertisers", out, p, total)
}

func (h *handler) advertiser(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	a, err := h.svc.ManagedBrand(r.Context(), c.Account.ID, r.PathValue("adv"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, advertiserOf(*a, c.Base))
	return nil
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		return err
	}
	list, total, err := h.svc.Users(r.Context(), c, p)
	if err != nil {
		return err
	}
	out := make([]service.UserBody, 0, len(list))
	for _, u := range list {
		out = append(out, service.UserBody{Id: u.ID, Name: u.Name, Email: u.Email})
	}
	return writeList(w, r, "Users", out, p, total)
}

// apiScopes answers the catalog a token of the addressed account can hold.
func (h *handler) apiScopes(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	writeJSON(w, http.StatusOK, struct {
		Categories []service.Category `json:"Categories"`
	}{service.CatalogFor(c.Account.Kind)})
	return nil
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	f, err := parseTokenFilter(q)
	if err != nil {
		return err
	}
	list, total, err := h.svc.Tokens(r.Context(), c, f, p)
	if err != nil {
		return err
	}
	out := make([]tokenBody, 0, len(list))
	for i := range list {
		out = append(out, bodyOf(&list[i], c.Base, c.Now))
	}
	return writeList(w, r, "ApiTokens", out, p, total)
}

func (h *handler) getToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	t, err := h.svc.Token(r.Context(), c, r.PathValue("tok"))
	if err != nil {
		return err
	}
	writeToken(w, http.StatusOK, bodyOf(t, c.Base, c.Now))
	return nil
}

// revealToken answers a token's secret.
func (h *handler) revealToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	sid := r.PathValue("tok")
	secret, err := h.svc.Secret(r.Context(), c, sid)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, SecretBody{AccountSid: sid, AuthToken: secret})
	return nil
}

// parsePage reads Page (1 to 1,000,000) and PageSize (1 to 1,000, default 100). A
// page whose offset would not fit an int is refused too, whatever the limits.
func parsePage(q url.Values) (service.Page, error) {
	p := service.Page{Number: 1, Size: 100}
	if v, ok, err := queryValue(q, "Page"); err != nil {
		return p, err
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPage {
			return p, service.BadRequest("Page", "must be a whole number from 1 to %d", contract.MaxPage)
		}
		p.Number = n
	}
	if v, ok, err := queryValue(q, "PageSize"); err != nil {
		return p, err
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageSize {
			return p, service.BadRequest("PageSize", "must be a whole number from 1 to %d", contract.MaxPageSize)
		}
		p.Size = n
	}
	if p.Number-1 > (math.MaxInt-p.Size)/p.Size {
		return p, service.BadRequest("Page", "is too large for a PageSize of %d", p.Size)
	}
	return p, nil
}

// queryValue answers query parameter name and whether it was given. Given but empty
// is 400: an unset variable in a caller's script must never widen a selection to
// everything.
func queryValue(q url.Values, name string) (string, bool, error) {
	vs, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if vs[0] == "" {
		return "", false, service.BadRequest(name, "must not be empty (leave the parameter out for no filter)")
	}
	return vs[0], true, nil
}

func parseTokenFilter(q url.Values) (service.TokenFilter, error) {
	var f service.TokenFilter
	if v, ok, err := queryValue(q, "State"); err != nil {
		return f, err
	} else if ok {
		f.State = strings.ToUpper(v)
		if f.State != service.StateEnabled && f.State != service.StateDisabled {
			return f, service.BadRequest("State", "must be ENABLED or DISABLED")
		}
	}
	name, _, err := queryValue(q, "Name")
	if err != nil {
		return f, err
	}
	f.Name = name
	if err := checkText("Name", f.Name, false, maxName); err != nil {
		return f, err
	}
	exact, _, err := queryValue(q, "ExactName")
	if err != nil {
		return f, err
	}
	if err := checkText("ExactName", exact, false, maxName); err != nil {
		return f, err
	}
	f.ExactName = contract.NormalName(exact)
	for _, d := range []struct {
		name string
		to   *time.Time
	}{
		{"CreatedAfter", &f.CreatedAfter},
		{"CreatedBefore", &f.CreatedBefore},
		{"LastUsedBefore", &f.LastUsedBefore},
		{"ResetBefore", &f.ResetBefore},
		{"ExpiresBefore", &f.ExpiresBefore},
	} {
		v, ok, err := queryValue(q, d.name)
		if err != nil {
			return f, err
		}
		if !ok {
			continue
		}
		t, err := parseWhen(v)
		if err != nil {
			return f, service.BadRequest(d.name, "must be an RFC 3339 time (2026-01-02T03:04:05Z) or a date (2026-01-02)")
		}
		*d.to = t
	}
	return f, nil
}

// parseWhen reads an RFC 3339 time or a date, which means midnight UTC.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// listHead is impact.com's list envelope, its numbers as strings.
type listHead struct {
	Page        string `json:"@page"`
	NumPages    string `json:"@numpages"`
	PageSize    string `json:"@pagesize"`
	Total       string `json:"@total"`
	NextPageUri string `json:"@nextpageuri"`
}

// writeList answers one page in the envelope, items under key; @nextpageuri repeats the
// request's filters and is "" on the last page.
func writeList(w http.ResponseWriter, r *http.Request, key string, items any, p service.Page, total int) error {
	numPages := (total + p.Size - 1) / p.Size
	next := ""
	if p.Number < numPages {
		q := r.URL.Query()
		q.Set("Page", strconv.Itoa(p.Number+1))
		q.Set("PageSize", strconv.Itoa(p.Size))
		next = r.URL.Path + "?" + q.Encode()
	}
	head, err := encode(listHead{
		Page: strconv.Itoa(p.Number), NumPages: strconv.Itoa(numPages), PageSize: strconv.Itoa(p.Size),
		Total: strconv.Itoa(total), NextPageUri: next,
	})
	if err != nil {
		return err
	}
	list, err := encode(items)
	if err != nil {
		return err
	}
	keyJSON, err := json.Marshal(key)
	if err != nil {
		return err
	}
	// Splice the items into the envelope: {"@page":…,"<key>":[…]}.
	head = bytes.TrimSpace(head)
	body := append(head[:len(head)-1], ',')
	body = append(body, keyJSON...)
	body = append(body, ':')
	body = append(body, bytes.TrimSpace(list)...)
	body = append(body, '}', '\n')
	// Both parts come from encode: the body is sent as it is, not checked
	// and compacted once more (a page of 1,000 tokens is over 500 KB).
	writeBody(w, http.StatusOK, body)
	return nil
}
