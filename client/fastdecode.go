package client

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/impactcom/impactctl/contract"
)

// A token is decoded by hand when its JSON is plain, and by encoding/json
// otherwise. encoding/json reflects over every field of every token, which
// was most of the CPU a bulk command of 1,000 spent on its answers and its
// plan's list pages. "Plain" is narrow on purpose, so that the hand decoder
// only ever sees JSON whose meaning leaves no room for doubt:
//
//   - an object whose member names are exactly Token's field names (same
//     case, no escapes), each at most once;
//   - strings without escapes and in valid UTF-8;
//   - whole numbers strconv.ParseInt reads exactly;
//   - null where a field is a pointer or a list;
//   - a PrimaryContact of string Id, Name and Email.
//
// Anything else (an unknown or differently cased name, an escape, a
// number as a string, a duplicate) makes the decoder give up, and
// encoding/json reads the token as it always did, errors included. The
// fuzz test FuzzDecodeToken holds the two to the same answers.

// decodeToken decodes the valid JSON b into t (a zero Token) as
// json.Unmarshal would, or reports false having decided nothing; t is then
// to be discarded.
func decodeToken(b []byte, t *Token) bool {
	return plainObject(b, tokenFields, func(name, v []byte) bool {
		switch string(name) {
		case "AccountSid":
			return plainString(v, &t.AccountSid)
		case "Name":
			return plainString(v, &t.Name)
		case "Description":
			return plainString(v, &t.Description)
		case "State":
			var s string
			ok := plainString(v, &s)
			t.State = State(s)
			return ok
		case "ApiVersion":
			return plainInt(v, &t.ApiVersion)
		case "LatestApiVersion":
			return plainInt(v, &t.LatestApiVersion)
		case "AuthTokenHint":
			return plainString(v, &t.AuthTokenHint)
		case "PrimaryContact":
			return plainUser(v, &t.PrimaryContact)
		case "DeveloperEmails":
			return plainStrings(v, &t.DeveloperEmails)
		case "Scopes":
			return plainStrings(v, &t.Scopes)
		case "DateCreated":
			return plainString(v, &t.DateCreated)
		case "DateUpdated":
			return plainString(v, &t.DateUpdated)
		case "DateLastUsed":
			return plainOptString(v, &t.DateLastUsed)
		case "DateAuthTokenReset":
			return plainOptString(v, &t.DateAuthTokenReset)
		case "ExpiresAt":
			return plainOptString(v, &t.ExpiresAt)
		case "PreviousAuthTokenExpiresAt":
			return plainOptString(v, &t.PreviousAuthTokenExpiresAt)
		case "PreviousAuthTokenLastUsed":
			return plainOptString(v, &t.PreviousAuthTokenLastUsed)
		case "Uri":
			return plainString(v, &t.Uri)
		case "AuthToken":
			return plainString(v, &t.AuthToken)
		}
		return false
	})
}

// The member names each decoder reads.
var (
	tokenFields = names("AccountSid", "Name", "Description", "State", "ApiVersion", "LatestApiVersion",
		"AuthTokenHint", "PrimaryContact", "DeveloperEmails", "Scopes", "DateCreated", "DateUpdated",
		"DateLastUsed", "DateAuthTokenReset", "ExpiresAt", "PreviousAuthTokenExpiresAt",
		"PreviousAuthTokenLastUsed", "Uri", "AuthToken")
	bulkFields = names("AccountSid", "Status", "StatusCode", "Code", "Scope", "Message", "Errors", "ApiToken")
	userFields = names("Id", "Name", "Email")
)

// names numbers member names, at most 64, for plainObject to tell each one
// seen.
func names(list ...string) map[string]uint {
	m := make(map[string]uint, len(list))
	for i, n := range list {
		m[n] = uint(i)
	}
	return m
}

// unmarshalToken decodes one token, by hand when it is plain.
func unmarshalToken(b []byte, t *Token) error {
	if decodeToken(b, t) {
		return nil
	}
	*t = Token{}
	return json.Unmarshal(b, t)
}

// decodeBulkResult decodes the valid JSON b into r (a zero BulkResult) as
// its UnmarshalJSON would, or reports false: a result whose members are
// exactly AccountSid, Status, StatusCode (a whole number), Code, Scope,
// Message, Errors (null) and ApiToken (null or a plain token), each at most
// once.
func decodeBulkResult(b []byte, r *BulkResult) bool {
	return plainObject(b, bulkFields, func(name, v []byte) bool {
		switch string(name) {
		case "AccountSid":
			return plainString(v, &r.AccountSid)
		case "Status":
			return plainString(v, &r.Status)
		case "StatusCode":
			return plainInt(v, &r.StatusCode)
		case "Code":
			var s string
			ok := plainString(v, &s)
			r.Code = contract.ErrorCode(s)
			return ok
		case "Scope":
			return plainString(v, &r.Scope)
		case "Message":
			return plainString(v, &r.Message)
		case "Errors":
			return string(v) == "null"
		case "ApiToken":
			if string(v) == "null" {
				return true
			}
			r.ApiToken = new(Token)
			return len(v) > 0 && v[0] == '{' && decodeToken(v, r.ApiToken)
		}
		return false
	})
}

// plainObject calls member for each member of the valid JSON object b, in
// order, and reports whether b is an object whose names are all among
// known, each written plainly (no escapes) and at most once, and every
// member call reported true.
func plainObject(b []byte, known map[string]uint, member func(name, v []byte) bool) bool {
	var seen uint64
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return false
		}
		end := valueEnd(b, i)
		if end < i+2 {
			return false
		}
		name := b[i+1 : end-1]
		n, ok := known[string(name)]
		if !ok || seen&(1<<n) != 0 {
			return false // unknown (an escape too), or a duplicate
		}
		seen |= 1 << n
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		end = valueEnd(b, i)
		if end <= i || !member(name, b[i:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i < len(b) && skipSpace(b, i+1) == len(b)
}

// plainString reads a JSON string without escapes, in valid UTF-8.
func plainString(v []byte, s *string) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw) {
		return false
	}
	*s = string(raw)
	return true
}

// plainOptString reads null or a plain string.
func plainOptString(v []byte, s **string) bool {
	if string(v) == "null" {
		return true
	}
	*s = new(string)
	return plainString(v, *s)
}

// plainInt reads a whole number as encoding/json reads one into an int.
func plainInt(v []byte, n *int) bool {
	for _, c := range v {
		if c != '-' && (c < '0' || c > '9') {
			return false
		}
	}
	x, err := strconv.ParseInt(string(v), 10, strconv.IntSize)
	*n = int(x)
	return err == nil
}

// plainStrings reads null or an array of plain strings.
func plainStrings(v []byte, out *[]string) bool {
	if string(v) == "null" {
		return true
	}
	if len(v) == 0 || v[0] != '[' {
		return false
	}
	list := []string{}
	i := skipSpace(v, 1)
	for i < len(v) && v[i] != ']' {
		if v[i] != '"' {
			return false
		}
		end := stringEnd(v, i)
		var s string
		if end < i+2 {
			return false
		}
		if !plainString(v[i:end], &s) {
			return false
		}
		list = append(list, s)
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	*out = list
	return i == len(v)-1
}

// plainUser reads null or a user of string Id, Name and Email, each at
// most once.
func plainUser(v []byte, u **User) bool {
	if string(v) == "null" {
		return true
	}
	*u = new(User)
	return plainObject(v, userFields, func(name, v []byte) bool {
		switch string(name) {
		case "Id":
			return plainString(v, &(*u).Id)
		case "Name":
			return plainString(v, &(*u).Name)
		case "Email":
			return plainString(v, &(*u).Email)
		}
		return false
	})
}
