package iostreams

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Every write to stderr is sanitised; in JSON modes each line becomes one
// object with its Level, and a "warning: " line is a warning.
func TestMessages(t *testing.T) {
	for _, jsonMode := range []bool{false, true} {
		var raw bytes.Buffer
		m := NewMessages(&raw, func() bool { return jsonMode }, false)
		w := m.Writer(LevelInfo)
		w.Write([]byte("edited token \x1b]0;owned\x07IR1\n\nwarning: config.yaml can be read\nAuth Token: "))
		got := raw.String()
		if strings.ContainsAny(got, "\x1b\x07") || strings.Contains(got, "owned") {
			t.Errorf("json=%v: not sanitised: %q", jsonMode, got)
		}
		if !jsonMode {
			if want := "edited token IR1\n\nwarning: config.yaml can be read\nAuth Token: "; got != want {
				t.Errorf("text: %q, want %q", got, want)
			}
			continue
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		want := []map[string]string{
			{"Level": "info", "Message": "edited token IR1"},
			{"Level": "warning", "Message": "config.yaml can be read"},
			{"Level": "info", "Message": "Auth Token: "},
		}
		if len(lines) != len(want) {
			t.Fatalf("json: %d lines, want %d:\n%s", len(lines), len(want), got)
		}
		for i, line := range lines {
			var obj map[string]string
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("line %d is not a JSON object: %q", i, line)
			}
			if obj["Level"] != want[i]["Level"] || obj["Message"] != want[i]["Message"] || !strings.HasPrefix(line, `{"Level":`) {
				t.Errorf("line %d = %s, want %v", i, line, want[i])
			}
		}
	}
}
