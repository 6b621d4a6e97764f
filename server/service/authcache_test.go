package service

import (
	"reflect"
	"testing"
	"time"
)

// TestCloneSharesNothing: every slice of a token is copied, so a request changing
// its token never changes a kept copy, whatever fields Token grows.
func TestCloneSharesNothing(t *testing.T) {
	orig := &Token{SID: "IR1"}
	v := reflect.ValueOf(orig).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func:
			t.Fatalf("Token.%s is a %s: clone must copy it", v.Type().Field(i).Name, f.Kind())
		}
	}
	c := reflect.ValueOf(orig.clone()).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Pointer() == c.Field(i).Pointer() {
			t.Errorf("clone shares Token.%s", v.Type().Field(i).Name)
		}
	}
}

// TestAuthCacheLookup: a kept token answers only the secret it authenticated with,
// only at the generation it was read at, only while young, and with the target too
// when one is asked for.
func TestAuthCacheLookup(t *testing.T) {
	now := time.Now()
	c := newAuthCache(time.Minute)
	caller := &Token{SID: "IRcaller", SecretMAC: []byte("mac-1"), Scopes: []string{"apitokens.read"}}
	target := &Token{SID: "IRtarget", Name: "target"}
	c.keep(7, now, caller, "IRtarget", target)
	c.keep(7, now, caller, "IRgone", nil)

	for _, tc := range []struct {
		name   string
		gen    uint64
		at     time.Time
		mac    string
		target string
		hit    bool
	}{
		{"the same secret and generation", 7, now, "mac-1", "", true},
		{"with its target", 7, now, "mac-1", "IRtarget", true},
		{"with a target that was not found", 7, now, "mac-1", "IRgone", true},
		{"another secret", 7, now, "mac-2", "", false},
		{"the generation moved", 8, now, "mac-1", "", false},
		{"too old", 7, now.Add(time.Minute), "mac-1", "", false},
		{"a target not kept", 7, now, "mac-1", "IRother", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, other, ok := c.lookup(tc.gen, tc.at, "IRcaller", []byte(tc.mac), tc.target)
			if ok != tc.hit {
				t.Fatalf("hit %v, want %v", ok, tc.hit)
			}
			if !ok {
				return
			}
			if got == caller || got.SID != caller.SID {
				t.Errorf("caller %p %+v: want a copy of %p", got, got, caller)
			}
			if tc.target == "IRtarget" && (other == nil || other == target || other.Name != "target") {
				t.Errorf("target %+v: want a copy", other)
			}
			if tc.target == "IRgone" && other != nil {
				t.Errorf("target %+v: want none", other)
			}
		})
	}

	// An older read never replaces a newer copy.
	c.keep(9, now, &Token{SID: "IRcaller", SecretMAC: []byte("mac-9")}, "", nil)
	c.keep(8, now, caller, "", nil)
	if _, _, ok := c.lookup(9, now, "IRcaller", []byte("mac-9"), ""); !ok {
		t.Error("a read at generation 8 replaced the copy read at 9")
	}
}
