package contract

import "encoding/json"

// EventChange is one item of an event's Changes, as the server stores it and sends it:
// Before → After for a single value, Added and Removed for a list (Scopes,
// DeveloperEmails). Before and After keep what was written (objects keep their
// field order).
type EventChange struct {
	Field   string
	Before  any
	After   any
	List    bool
	Added   []string
	Removed []string
}

func (c EventChange) MarshalJSON() ([]byte, error) {
	if c.List {
		return json.Marshal(struct {
			Field   string   `json:"Field"`
			Added   []string `json:"Added"`
			Removed []string `json:"Removed"`
		}{c.Field, nonNil(c.Added), nonNil(c.Removed)})
	}
	return json.Marshal(struct {
		Field  string `json:"Field"`
		Before any    `json:"Before"`
		After  any    `json:"After"`
	}{c.Field, c.Before, c.After})
}

func (c *EventChange) UnmarshalJSON(b []byte) error {
	var raw struct {
		Field   string          `json:"Field"`
		Before  json.RawMessage `json:"Before"` // kept as written: objects keep their field order
		After   json.RawMessage `json:"After"`
		Added   *[]string       `json:"Added"`
		Removed *[]string       `json:"Removed"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = EventChange{Field: raw.Field, Before: rawOrNull(raw.Before), After: rawOrNull(raw.After)}
	if raw.Added != nil || raw.Removed != nil {
		c.List = true
		if raw.Added != nil {
			c.Added = *raw.Added
		}
		if raw.Removed != nil {
			c.Removed = *raw.Removed
		}
	}
	return nil
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
