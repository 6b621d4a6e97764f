package client

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/contract"
)

// plainTokenJSON is a token as the reference server writes one.
const plainTokenJSON = `{"AccountSid":"IRB0001000000000000000000000000001","Name":"CI deploys","Description":"","State":"ENABLED",` +
	`"ApiVersion":2,"LatestApiVersion":3,"AuthTokenHint":"1a2b",` +
	`"PrimaryContact":{"Id":"U100","Name":"Ada Byron","Email":"ada@example.com"},"DeveloperEmails":["dev@example.com"],` +
	`"Scopes":["reports.read","reports.export"],"DateCreated":"2026-01-02T03:04:05Z","DateUpdated":"2026-01-02T03:04:05Z",` +
	`"DateLastUsed":null,"DateAuthTokenReset":"2026-01-02T03:04:05Z","ExpiresAt":null,"PreviousAuthTokenExpiresAt":null,` +
	`"PreviousAuthTokenLastUsed":null,"Uri":"/Agencies/IRx/ApiTokens/IRB0001000000000000000000000000001"}`

// tokenSeeds are tokens the hand decoder reads and tokens it must leave to
// encoding/json.
var tokenSeeds = []string{
	plainTokenJSON,
	strings.Replace(plainTokenJSON, `"DateLastUsed":null`, `"DateLastUsed":"2026-02-03T04:05:06Z"`, 1),
	strings.Replace(plainTokenJSON, `"Name":"CI deploys"`, `"Name":"CI \u00e9 deploys"`, 1),
	strings.Replace(plainTokenJSON, `"Name":"CI deploys"`, `"name":"CI deploys"`, 1),
	strings.Replace(plainTokenJSON, `"Scopes":[`, `"Scopes":null,"Scopes":[`, 1),
	strings.Replace(plainTokenJSON, `"ApiVersion":2`, `"ApiVersion":"2"`, 1),
	strings.Replace(plainTokenJSON, `"ApiVersion":2`, `"ApiVersion":2.0`, 1),
	strings.Replace(plainTokenJSON, `"ApiVersion":2`, `"ApiVersion":99999999999999999999`, 1),
	strings.Replace(plainTokenJSON, `"Id":"U100"`, `"Id":100`, 1),
	strings.Replace(plainTokenJSON, `"DeveloperEmails":["dev@example.com"]`, `"DeveloperEmails":[]`, 1),
	strings.Replace(plainTokenJSON, `"DeveloperEmails":["dev@example.com"]`, `"DeveloperEmails":[ "a" , "b" ]`, 1),
	strings.Replace(plainTokenJSON, `"PrimaryContact":{`, `"PrimaryContact":{"Extra":1,`, 1),
	strings.Replace(plainTokenJSON, `"Uri"`, `"Unknown":true,"Uri"`, 1),
	strings.Replace(plainTokenJSON, `"Description":""`, "\"Description\":\"caf\xc3\"", 1),
	` { "AccountSid" : "IRx" , "Scopes" : [ ] , "PrimaryContact" : null } `,
	`{}`, `[]`, `null`, `{"AuthToken":"s3cr3t"}`, `{"State":1}`,
}

// FuzzDecodeToken holds the hand decoder to encoding/json: whatever it
// decodes, encoding/json decodes to the same Token.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !validJSON(b) {
			return // the decoder is only given JSON found valid
		}
		var fast Token
		ok := decodeToken(b, &fast)
		var std Token
		err := json.Unmarshal(b, &std)
		if !ok {
			var again Token
			if err2 := unmarshalToken(b, &again); (err2 == nil) != (err == nil) || err == nil && !reflect.DeepEqual(again, std) {
				t.Fatalf("%s: unmarshalToken answered %+v, %v; encoding/json %+v, %v", b, again, err2, std, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: decoded by hand, yet encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%s:\nby hand       %+v\nencoding/json %+v", b, fast, std)
		}
	})
}

// FuzzDecodeBulkResult does the same for a bulk call's result.
func FuzzDecodeBulkResult(f *testing.F) {
	for _, s := range []string{
		`{"AccountSid":"IRx","Status":"OK","StatusCode":200,"Message":"","ApiToken":` + plainTokenJSON + `}`,
		`{"AccountSid":"IRx","Status":"ERROR","StatusCode":403,"Code":"missing_scope","Message":"no","Scope":"apitokens.write","ApiToken":null}`,
		`{"AccountSid":"IRx","Status":"ERROR","StatusCode":"404","Message":"x","Errors":[{"Field":"Sids","Message":"y"}],"ApiToken":null}`,
		`{"AccountSid":"IRx","Status":"OK","StatusCode":204,"Message":"","ApiToken":null,"ApiToken":null}`,
		`{"accountsid":"IRx"}`, `{"StatusCode":1e3}`, `{"ApiToken":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !validJSON(b) {
			return
		}
		var fast BulkResult
		ok := decodeBulkResult(b, &fast)
		var std BulkResult
		err := std.UnmarshalJSON(b) // by hand when plain: compared below with the slow way
		var slow struct {
			AccountSid, Status, Message string
			Code                        string
			Scope                       string
			StatusCode                  flexInt
			Errors                      []FieldError
			ApiToken                    *Token
		}
		slowErr := json.Unmarshal(b, &slow)
		if (err == nil) != (slowErr == nil) {
			t.Fatalf("%s: UnmarshalJSON %v, encoding/json %v", b, err, slowErr)
		}
		if !ok {
			return
		}
		if slowErr != nil {
			t.Fatalf("%s: decoded by hand, yet encoding/json refuses it: %v", b, slowErr)
		}
		want := BulkResult{AccountSid: slow.AccountSid, Status: slow.Status, StatusCode: int(slow.StatusCode), Code: contract.ErrorCode(slow.Code),
			Scope: slow.Scope, Message: slow.Message, Errors: slow.Errors, ApiToken: slow.ApiToken}
		if !reflect.DeepEqual(fast, want) || !reflect.DeepEqual(std, want) {
			t.Fatalf("%s:\nby hand       %+v\nencoding/json %+v", b, fast, want)
		}
	})
}

// TestDecodeTokenKnowsEveryField keeps the hand decoder whole: every field
// encoding/json reads into a Token is one it reads too, so a field added to
// Token cannot send every token the slow way unnoticed, and a plain token
// with every field set is read by hand.
func TestDecodeTokenKnowsEveryField(t *testing.T) {
	typ := reflect.TypeFor[Token]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := tokenFields[name]; !ok {
			t.Errorf("Token.%s (%q) is not read by decodeToken", f.Name, name)
		}
	}
	full := strings.Replace(plainTokenJSON, `"DateLastUsed":null`, `"DateLastUsed":"2026-02-03T04:05:06Z"`, 1)
	full = strings.TrimSuffix(full, `}`) + `,"AuthToken":"s3cr3t"}`
	var tok Token
	if !decodeToken([]byte(full), &tok) {
		t.Fatalf("a plain token was left to encoding/json: %s", full)
	}
	if tok.PrimaryContact == nil || tok.PrimaryContact.Email != "ada@example.com" || tok.DateLastUsed == nil || len(tok.Scopes) != 2 {
		t.Fatalf("read %+v", tok)
	}
}

// TestUnmarshalListItem reads list items of either token type by hand, and
// leaves null and odd items to encoding/json.
func TestUnmarshalListItem(t *testing.T) {
	var p *Token
	if err := unmarshal([]byte(plainTokenJSON), &p); err != nil || p == nil || p.Name != "CI deploys" {
		t.Fatalf("*Token: %+v, %v", p, err)
	}
	var v Token
	if err := unmarshal([]byte(plainTokenJSON), &v); err != nil || v.Name != "CI deploys" {
		t.Fatalf("Token: %+v, %v", v, err)
	}
	p = &Token{}
	if err := unmarshal([]byte(`null`), &p); err != nil || p != nil {
		t.Fatalf("null: %+v, %v", p, err)
	}
	if err := unmarshal([]byte(`{"ApiVersion":"x"}`), &p); err == nil {
		t.Fatalf("a string ApiVersion was read: %+v", p)
	}
}

// BenchmarkDecodeToken decodes a plain token by hand and with encoding/json:
//
//	go test ./client -run '^$' -bench DecodeToken
func BenchmarkDecodeToken(b *testing.B) {
	body := []byte(plainTokenJSON)
	b.Run("by-hand", func(b *testing.B) {
		for b.Loop() {
			var t Token
			if !decodeToken(body, &t) {
				b.Fatal("left to encoding/json")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var t Token
			if err := json.Unmarshal(body, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
