package client

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// A shape is what encoding/json writes for one Go type, as far as it
// matters to tell whether some JSON is exactly the encoding of the value it
// decodes to: then a listing written as JSON can pass the server's bytes
// through instead of decoding and encoding every item, and write the same
// bytes. Anything a shape cannot vouch for is decoded and encoded as usual.
type shape struct {
	kind   shapeKind
	bits   int     // kindInt: the integer's size
	fields []field // kindObject: in encoding order
	elem   *shape  // kindNullable: the pointed-to type
}

type shapeKind int

const (
	kindNone     shapeKind = iota // no vouching: always decode and encode
	kindString                    // string
	kindInt                       // a signed integer
	kindBool                      // bool
	kindStrings                   // []string, null when nil
	kindObject                    // a struct
	kindNullable                  // a pointer: null, or the pointed-to value
)

// field is a struct field as encoding/json writes it.
type field struct {
	key       string // `"Name"`, quotes included
	omitEmpty bool
	shape     *shape
}

// plainDecoders are types with an UnmarshalJSON of their own that decode
// every encoding of theirs to the value it encodes, as a plain struct
// would: User reads a numeric Id as a string, but its own encoding has a
// string Id, which it keeps as it is.
var plainDecoders = map[reflect.Type]bool{
	reflect.TypeFor[User](): true,
}

var shapes sync.Map // reflect.Type → *shape

// shapeFor returns T's shape, built once.
func shapeFor[T any]() *shape {
	t := reflect.TypeFor[T]()
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s, _ := shapes.LoadOrStore(t, shapeOf(t))
	return s.(*shape)
}

var (
	marshalerType   = reflect.TypeFor[json.Marshaler]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// shapeOf builds t's shape; types it does not know get kindNone, and so
// does a struct holding one.
func shapeOf(t reflect.Type) *shape {
	none := &shape{kind: kindNone}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return none
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) && !plainDecoders[t] {
		return none
	}
	switch t.Kind() {
	case reflect.String:
		return &shape{kind: kindString}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &shape{kind: kindInt, bits: t.Bits()}
	case reflect.Bool:
		return &shape{kind: kindBool}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.String || t.Elem() != reflect.TypeFor[string]() {
			return none
		}
		return &shape{kind: kindStrings}
	case reflect.Pointer:
		elem := shapeOf(t.Elem())
		if elem.kind == kindNone {
			return none
		}
		return &shape{kind: kindNullable, elem: elem}
	case reflect.Struct:
		s := &shape{kind: kindObject}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous {
				return none
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" && opts == "" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if opts != "" && opts != "omitempty" || !plainName(name) {
				return none
			}
			fs := shapeOf(f.Type)
			if fs.kind == kindNone {
				return none
			}
			s.fields = append(s.fields, field{key: `"` + name + `"`, omitEmpty: opts == "omitempty", shape: fs})
		}
		return s
	}
	return none
}

// plainName reports whether encoding/json writes name as it is.
func plainName(name string) bool {
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return name != ""
}

// encodes reports whether b is exactly what encoding/json (without HTML
// escaping) writes for the value b decodes to.
func (s *shape) encodes(b []byte) bool {
	end, ok := s.match(b, 0)
	return ok && end == len(b)
}

// match checks the value at b[i] and returns the index past it.
func (s *shape) match(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch s.kind {
	case kindString:
		end, ok := canonicalString(b, i)
		return end, ok
	case kindInt:
		end := i
		for end < len(b) && (b[end] == '-' || b[end] >= '0' && b[end] <= '9') {
			end++
		}
		n, err := strconv.ParseInt(string(b[i:end]), 10, s.bits)
		return end, err == nil && strconv.FormatInt(n, 10) == string(b[i:end])
	case kindBool:
		switch {
		case hasAt(b, i, "true"):
			return i + 4, true
		case hasAt(b, i, "false"):
			return i + 5, true
		}
		return i, false
	case kindStrings:
		return matchStrings(b, i)
	case kindNullable:
		if hasAt(b, i, "null") {
			return i + 4, true
		}
		return s.elem.match(b, i)
	case kindObject:
		return s.matchObject(b, i)
	}
	return i, false
}

// matchStrings matches a JSON array of strings, or null, at b[i:].
func matchStrings(b []byte, i int) (int, bool) {
	if hasAt(b, i, "null") {
		return i + 4, true
	}
	if b[i] != '[' {
		return i, false
	}
	i++
	for first := true; ; first = false {
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		if !first {
			if i >= len(b) || b[i] != ',' {
				return i, false
			}
			i++
		}
		end, ok := canonicalString(b, i)
		if !ok {
			return i, false
		}
		i = end
	}
}

// matchObject matches an object of this shape at b[i:]: its fields in
// order, an omitempty field left out only where empty.
func (s *shape) matchObject(b []byte, i int) (int, bool) {
	if b[i] != '{' {
		return i, false
	}
	i++
	wrote := false
	for _, f := range s.fields {
		j := i
		if wrote {
			if !hasAt(b, j, ",") {
				if f.omitEmpty {
					continue // left out, as an empty value is
				}
				return i, false
			}
			j++
		}
		if !hasAt(b, j, f.key) || !hasAt(b, j+len(f.key), ":") {
			if f.omitEmpty {
				continue
			}
			return i, false
		}
		start := j + len(f.key) + 1
		end, ok := f.shape.match(b, start)
		if !ok || f.omitEmpty && f.shape.empty(b[start:end]) {
			return i, false
		}
		i, wrote = end, true
	}
	if i >= len(b) || b[i] != '}' {
		return i, false
	}
	return i + 1, true
}

// empty reports whether v, a value of this shape, is one omitempty leaves
// out.
func (s *shape) empty(v []byte) bool {
	switch s.kind {
	case kindString:
		return string(v) == `""`
	case kindInt:
		return string(v) == "0"
	case kindBool:
		return string(v) == "false"
	case kindStrings:
		return string(v) == "null" || string(v) == "[]"
	case kindNullable:
		return string(v) == "null"
	}
	return false
}

func hasAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// canonicalString checks the JSON string at b[i] is written as
// encoding/json writes its value without HTML escaping, and returns the
// index past it. Every other spelling of the same text (an escaped "/" or
// letter, upper-case hex, a raw U+2028) and text that does not survive a
// decode (invalid UTF-8, lone surrogates) fails.
func canonicalString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); {
		if i = plainEnd(b, i); i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				i += 2
				continue
			case 'u':
				if i+6 > len(b) {
					return i, false
				}
				switch hex := string(b[i+2 : i+6]); {
				case hex == "2028" || hex == "2029":
				case hex[:2] == "00" && lowerHex(hex[2]) && lowerHex(hex[3]):
					switch v, _ := strconv.ParseUint(hex, 16, 8); v {
					case '\b', '\f', '\n', '\r', '\t':
						return i, false // written as \b, \f, \n, \r, \t
					default:
						if v >= 0x20 {
							return i, false
						}
					}
				default:
					return i, false
				}
				i += 6
				continue
			}
			return i, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return i, false
			}
			i += size
		}
	}
	return i, false
}

func lowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
