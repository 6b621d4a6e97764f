package ratelimit

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Rate{
		"1000": {1000, time.Hour}, "1000/h": {1000, time.Hour}, "100/m": {100, time.Minute},
		"5/s": {5, time.Second}, "0": {0, time.Hour}, "5/2s": {5, 2 * time.Second}, "100/1m30s": {100, 90 * time.Second},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "10/d", "1/", "5/0s", "5/-2s", "5/500ms"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}
