package commands

import (
	"strings"
	"testing"
)

func TestJSONInArgs(t *testing.T) {
	for _, tt := range []struct {
		args string
		want bool
	}{
		{"tokens list", false},
		{"tokens list --bogus -o json", true},
		{"-o json tokens list --bogus", true},
		{"tokens list -ojson --bogus", true},
		{"tokens list -o=jsonl", true},
		{"tokens list --output json", true},
		{"tokens list --output=jsonl", true},
		{"tokens list -yo json", true},
		{"tokens list --jq .", true},
		{"tokens list --jq=.[0]", true},
		{"tokens list --template {{.}}", true},
		{"tokens list --jq ''", false},
		{"tokens list -o table", false},
		{"tokens list -o json -o table", false},
		{"tokens list -o table -o json", true},
		{"tokens list -o", false},
		{"tokens list -- -o json", false},
		{"tokens list --name -o", false},
	} {
		args := strings.Fields(tt.args)
		for i, a := range args {
			if a == "''" {
				args[i] = ""
			}
		}
		if got := jsonInArgs(args); got != tt.want {
			t.Errorf("jsonInArgs(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
