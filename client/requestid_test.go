package client

import "testing"

func TestValidRequestID(t *testing.T) {
	for id, ok := range map[string]bool{
		"RQ0123456789abcdef0123456789abcdef": true,
		"req-1.2_3":                          true,
		"":                                   false,
		"RQ\x1b]0;title\x07":                 false,
		"a b":                                false,
		string(make([]byte, 101)):            false,
	} {
		if got := validRequestID(id); got != ok {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, ok)
		}
	}
}
