package client

import (
	"bytes"
	"encoding/json"
	"iter"
)

// A list page is split by hand rather than decoded: encoding/json would
// scan the page once to check it and again for every level it descends,
// where one check (validJSON) and one pass to find the items suffice.
// The functions below take JSON already found valid.

// member is one name and value of a JSON object.
type member struct {
	name    string // decoded
	rawName []byte // as written, quotes included
	value   []byte
	// items are value's elements when value is an array and name is the
	// one members was asked to split: found in the pass that finds the
	// value's end.
	items []json.RawMessage
}

// members yields the members of the valid JSON object obj in order; the
// array value of a member named split comes with its elements.
func members(obj []byte, split string) iter.Seq[member] {
	return func(yield func(member) bool) {
		i := skipSpace(obj, 1)
		for i < len(obj) && obj[i] != '}' {
			end := valueEnd(obj, i)
			m := member{rawName: obj[i:end]}
			m.name = unquote(m.rawName)
			i = skipSpace(obj, end)
			i = skipSpace(obj, i+1) // the ':'
			if split != "" && m.name == split && i < len(obj) && obj[i] == '[' {
				m.items, end = splitArray(obj, i)
			} else {
				end = valueEnd(obj, i)
			}
			m.value = obj[i:end]
			if !yield(m) {
				return
			}
			i = skipSpace(obj, end)
			if i < len(obj) && obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// elements returns the elements of the valid JSON array arr, as slices
// of it.
func elements(arr []byte) []json.RawMessage {
	out, _ := splitArray(arr, 0)
	return out
}

// splitArray returns the elements of the valid JSON array at b[i], as
// slices of b, and the index just past it.
func splitArray(b []byte, i int) ([]json.RawMessage, int) {
	var out []json.RawMessage
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != ']' {
		end := valueEnd(b, i)
		out = append(out, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out, min(i+1, len(b))
}

// unquote decodes a JSON string as encoding/json does, invalid UTF-8 and
// escapes included; plain ASCII, the usual case, needs no decoder.
func unquote(raw []byte) string {
	s := raw[1 : len(raw)-1]
	plain := true
	for _, c := range s {
		if c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(s)
	}
	var v string
	_ = json.Unmarshal(raw, &v)
	return v
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the valid JSON value that starts
// at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	// A number, true, false or null runs to the next delimiter.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// b[i]: its first quote after an even run of backslashes (bytes.IndexByte
// finds each quote many bytes at a time).
func stringEnd(b []byte, i int) int {
	start := i
	for i++; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			break
		}
		i += j
		k := i
		for k > start+1 && b[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
	}
	return len(b)
}
