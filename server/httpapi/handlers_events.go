package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// eventListHead is the event list's envelope: no page numbers and no total, since
// pages follow an anchor (@nextpageuri) that never repeats or skips an event.
type eventListHead struct {
	PageSize    string              `json:"@pagesize"`
	NextPageUri string              `json:"@nextpageuri"`
	Events      []service.EventBody `json:"Events"`
}

// tokenEvents answers one token's events; a deleted token's stay readable.
func (h *handler) tokenEvents(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return h.listEvents(w, r, c, r.PathValue("tok"), false)
}

// accountEvents answers the addressed account's events.
func (h *handler) accountEvents(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return h.listEvents(w, r, c, "", true)
}

func (h *handler) listEvents(w http.ResponseWriter, r *http.Request, c *service.Call, sid string, account bool) error {
	q := r.URL.Query()
	f, err := parseEventFilter(q, account)
	if err != nil {
		return err
	}
	size := f.Limit
	f.Limit = size + 1 // one more says whether a next page exists
	list, err := h.svc.Events(r.Context(), c, sid, f)
	if err != nil {
		return err
	}
	next := ""
	if len(list) > size {
		list = list[:size]
		last := list[len(list)-1]
		nq := url.Values{}
		for k, v := range q {
			if k != "Before" && k != "After" {
				nq[k] = v
			}
		}
		nq.Set("PageSize", strconv.Itoa(size))
		if f.After != nil {
			nq.Set("After", service.EventID(last.Date, last.ID))
		} else {
			nq.Set("Before", service.EventID(last.Date, last.ID))
		}
		next = r.URL.Path + "?" + nq.Encode()
	}
	body := eventListHead{PageSize: strconv.Itoa(size), NextPageUri: next, Events: make([]service.EventBody, 0, len(list))}
	for i := range list {
		body.Events = append(body.Events, service.EventBodyOf(&list[i]))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// parseEventFilter reads PageSize, Type, Since, Until, Before and After, and on the
// account's list Sid and ActorSid. An empty value is refused: an unset variable must
// never widen a selection.
func parseEventFilter(q url.Values, account bool) (service.EventFilter, error) {
	f := service.EventFilter{Limit: 100}
	if q.Has("Page") {
		return f, service.BadRequest("Page", "events are paged by @nextpageuri, not by page number")
	}
	allowed := []string{"PageSize", "Type", "Since", "Until", "Before", "After"}
	if account {
		allowed = append(allowed, "Sid", "ActorSid")
	}
	for _, name := range allowed {
		if q.Has(name) && q.Get(name) == "" {
			return f, service.BadRequest(name, "is empty; leave it out to not filter")
		}
	}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageSize {
			return f, service.BadRequest("PageSize", "must be a whole number from 1 to %d", contract.MaxPageSize)
		}
		f.Limit = n
	}
	if v := q.Get("Type"); v != "" {
		if !slices.Contains(service.EventTypes, v) {
			return f, service.BadRequest("Type", "must be one of the event types (created, edited, reset, …)")
		}
		f.Type = v
	}
	if err := parseEventBounds(q, &f); err != nil {
		return f, err
	}
	if f.Before != nil && f.After != nil {
		return f, service.BadRequest("After", "cannot be combined with Before")
	}
	if account {
		for _, s := range []struct {
			name string
			to   *string
		}{{"Sid", &f.TokenSID}, {"ActorSid", &f.ActorSID}} {
			if v := q.Get(s.name); v != "" {
				if !contract.ValidSID(v) {
					return f, service.BadRequest(s.name, "must be an Account SID (IR and 32 letters or digits)")
				}
				*s.to = v
			}
		}
	}
	return f, nil
}

// parseEventBounds reads an event list's time bounds (Since, Until) and anchors
// (Before, After) into f.
func parseEventBounds(q url.Values, f *service.EventFilter) error {
	for _, d := range []struct {
		name string
		to   *int64
	}{{"Since", &f.Since}, {"Until", &f.Until}} {
		if v := q.Get(d.name); v != "" {
			t, err := parseWhen(v)
			if err != nil {
				return service.BadRequest(d.name, "must be an RFC 3339 time (2026-01-02T03:04:05Z) or a date (2026-01-02)")
			}
			*d.to = t.Unix()
			if *d.to == 0 {
				*d.to = -1 // the epoch itself: 0 means no bound
			}
		}
	}
	for _, a := range []struct {
		name string
		to   **service.EventAnchor
	}{{"Before", &f.Before}, {"After", &f.After}} {
		if v := q.Get(a.name); v != "" {
			anchor, ok := service.ParseEventID(v)
			if !ok {
				return service.BadRequest(a.name, "must be an event Id (EV and 32 hexadecimal digits)")
			}
			*a.to = anchor
		}
	}
	return nil
}
