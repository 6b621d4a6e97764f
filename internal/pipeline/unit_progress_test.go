package pipeline

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// progressStderr is a run's stderr: the streams and the messages on them.
type progressStderr struct {
	io   *iostreams.IOStreams
	msgs *iostreams.Messages
}

// progressOn returns a stderr that is buf, a terminal or not.
func progressOn(buf *bytes.Buffer, tty, jsonMode bool) progressStderr {
	io := iostreams.Streams(strings.NewReader(""), &bytes.Buffer{}, buf)
	io.SetStderrTTY(tty)
	return progressStderr{io: io, msgs: iostreams.NewMessages(buf, func() bool { return jsonMode }, false)}
}

func runProgress(f progressStderr) {
	p := NewProgress(f.io, f.msgs, client.ActionDisable, 250)
	p.Add(100, 0, client.RateLimit{Limit: 10, Remaining: 1, Reset: 30})
	p.Add(100, 2, client.RateLimit{Limit: 10, Remaining: 0, Reset: 30})
	p.Wait(30 * time.Second)
	f.msgs.Say(iostreams.LevelWarning, "warning: something to say")
	p.Add(50, 0, client.RateLimit{})
	p.Finish()
}

func TestProgressOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	runProgress(progressOn(&buf, true, false))
	want := iostreams.ClearLine + "Disable: 100 of 250 done · rate budget 1 of 10 left" +
		iostreams.ClearLine + "Disable: 200 of 250 done, 2 failed · rate budget 0 of 10 left" +
		iostreams.ClearLine + "Disable: 200 of 250 done, 2 failed · rate budget 0 of 10 left · waiting 30s for it to refill" +
		iostreams.ClearLine + "warning: something to say\n" + "Disable: 200 of 250 done, 2 failed · rate budget 0 of 10 left · waiting 30s for it to refill" +
		iostreams.ClearLine + "Disable: 250 of 250 done, 2 failed · rate budget 0 of 10 left" +
		iostreams.ClearLine
	if buf.String() != want {
		t.Errorf("stderr:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestProgressJSONOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	runProgress(progressOn(&buf, true, true))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var v struct {
		Level               string
		Action              string
		Done, Total         int
		Failed, WaitSeconds int
		RateLimit           *client.RateLimit
	}
	if err := json.Unmarshal([]byte(lines[2]), &v); err != nil {
		t.Fatal(err)
	}
	if v.Level != "progress" || v.Action != "Disable" || v.Done != 200 || v.Total != 250 || v.Failed != 2 || v.WaitSeconds != 30 ||
		v.RateLimit == nil || v.RateLimit.Limit != 10 || v.RateLimit.Remaining != 0 {
		t.Errorf("line 3: %s", lines[2])
	}
	if !strings.HasPrefix(lines[3], `{"Level":"warning"`) {
		t.Errorf("line 4: %s", lines[3])
	}
}

func TestProgressInPipe(t *testing.T) {
	for _, jsonMode := range []bool{false, true} {
		var buf bytes.Buffer
		runProgress(progressOn(&buf, false, jsonMode))
		// Only the pause is told, as information, and the warning.
		got := buf.String()
		if strings.Count(got, "\n") != 2 || !strings.Contains(got, "waiting 30s for it to refill") || strings.Contains(got, "250") {
			t.Errorf("json %v: stderr:\n%s", jsonMode, got)
		}
		if jsonMode && !strings.HasPrefix(got, `{"Level":"info"`) {
			t.Errorf("json: the pause is not an info line: %s", got)
		}
	}
}
