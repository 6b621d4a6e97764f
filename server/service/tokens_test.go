package service

import "testing"

func TestOnlyStateMoved(t *testing.T) {
	before := Token{SID: "IR1", State: StateEnabled, Version: 3, Updated: 10, Scopes: []string{"a"}, Emails: []string{}}
	t2 := before
	t2.State, t2.Version, t2.Updated = StateDisabled, 4, 11
	if !onlyStateMoved(&before, &t2) {
		t.Error("a change of state alone not seen as such")
	}
	for name, edit := range map[string]func(*Token){
		"name":   func(t *Token) { t.Name = "x" },
		"scopes": func(t *Token) { t.Scopes = []string{"b"} },
		"expiry": func(t *Token) { t.ExpiresAt.Valid = true },
		"secret": func(t *Token) { t.SecretMAC = []byte{1} },
	} {
		t3 := t2
		t3.Scopes = []string{"a"}
		edit(&t3)
		if onlyStateMoved(&before, &t3) {
			t.Errorf("a change of state and %s seen as a change of state alone", name)
		}
	}
}
