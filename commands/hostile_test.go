package commands_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// hostileSID and hostileToken are the environment credentials a script gets
// with `hostile start`: well-formed, so the CLI sends them.
const (
	hostileSID   = "IRHOSTILEhostileHOSTILEhostile0001"
	hostileToken = "hostile-secret-0123456789abcdefghij"
)

// hostileServer answers each request with the first of its rules that
// matches, and records what it was asked.
type hostileServer struct {
	srv   *httptest.Server
	rules []*hostileRule
	done  chan struct{} // closed when the script ends, releasing hung answers

	mu  sync.Mutex
	log []string
}

// hostileRule is one answer of a hostile server (see cmdHostile).
type hostileRule struct {
	method, pattern string
	action          string // "answer", "hang", "stall", "trickle" or "close"
	status          int
	times           int // 0: every time
	delay           time.Duration
	every           time.Duration // trickle: the wait between bytes
	header          http.Header
	body            *template.Template

	hits int // guarded by hostileServer.mu
}

// hostileData is what a rule's body template sees.
type hostileData struct {
	URL   string   // the server's base URL
	SID   string   // the Account SID of the script's credentials
	N     int      // how many times this rule answered before, from 1
	Path  string   // the request's path
	Query string   // the request's raw query
	Wild  []string // the path segments matched by "*" in the pattern
}

var hostileFuncs = template.FuncMap{
	"repeat": strings.Repeat,
	"add":    func(a, b int) int { return a + b },
}

// hostileFile is one rule's text: its name and what follows it.
type hostileFile struct {
	Name string
	Data []byte
}

// splitHostile cuts a rules file at its ">>> METHOD /pattern" lines. (Not
// txtar's "-- name --" markers: the rules file lives inside a script, which
// is a txtar archive itself.)
func splitHostile(data []byte) []hostileFile {
	var files []hostileFile
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, ">>> "); ok {
			files = append(files, hostileFile{Name: strings.TrimSpace(name)})
			continue
		}
		if len(files) > 0 {
			files[len(files)-1].Data = append(files[len(files)-1].Data, line...)
		}
	}
	return files
}

// parseHostile reads a rules file: each rule starts with a line
// ">>> METHOD PATTERN" and holds a first line, header lines, a blank line
// and the body.
func parseHostile(data []byte) ([]*hostileRule, error) {
	files := splitHostile(data)
	if len(files) == 0 {
		return nil, fmt.Errorf("no rules: expected lines \">>> METHOD /path/pattern\"")
	}
	var rules []*hostileRule
	for _, f := range files {
		method, pattern, ok := strings.Cut(strings.TrimSpace(f.Name), " ")
		if !ok || !strings.HasPrefix(pattern, "/") || strings.ContainsAny(pattern, " \t") {
			return nil, fmt.Errorf("rule %q: expected \"METHOD /path/pattern\"", f.Name)
		}
		if _, err := path.Match(pattern, "/"); err != nil {
			return nil, fmt.Errorf("rule %q: %v", f.Name, err)
		}
		r := &hostileRule{method: method, pattern: pattern, action: "answer", header: http.Header{}}
		text := string(f.Data)
		head, body, _ := strings.Cut(text, "\n\n")
		lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
		words := strings.Fields(lines[0])
		if len(words) == 0 {
			return nil, fmt.Errorf("rule %q: the first line must be a status or hang, stall, close", f.Name)
		}
		for i, w := range words {
			switch {
			case i == 0 && (w == "hang" || w == "close"):
				r.action = w
			case i == 0:
				n, err := strconv.Atoi(w)
				if err != nil || n < 100 || n > 999 {
					return nil, fmt.Errorf("rule %q: bad status %q", f.Name, w)
				}
				r.status = n
			case w == "stall":
				r.action = "stall"
			case w == "trickle":
				r.action = "trickle"
			case strings.HasPrefix(w, "every="):
				d, err := time.ParseDuration(strings.TrimPrefix(w, "every="))
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("rule %q: bad %q", f.Name, w)
				}
				r.every = d
			case strings.HasPrefix(w, "times="):
				n, err := strconv.Atoi(strings.TrimPrefix(w, "times="))
				if err != nil || n < 1 {
					return nil, fmt.Errorf("rule %q: bad %q", f.Name, w)
				}
				r.times = n
			case strings.HasPrefix(w, "delay="):
				d, err := time.ParseDuration(strings.TrimPrefix(w, "delay="))
				if err != nil {
					return nil, fmt.Errorf("rule %q: bad %q", f.Name, w)
				}
				r.delay = d
			default:
				return nil, fmt.Errorf("rule %q: unknown option %q", f.Name, w)
			}
		}
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				return nil, fmt.Errorf("rule %q: bad header line %q", f.Name, l)
			}
			r.header[http.CanonicalHeaderKey(strings.TrimSpace(k))] = append(r.header[http.CanonicalHeaderKey(strings.TrimSpace(k))], strings.TrimSpace(v))
		}
		tmpl, err := template.New(f.Name).Funcs(hostileFuncs).Parse(body)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %v", f.Name, err)
		}
		r.body = tmpl
		rules = append(rules, r)
	}
	return rules, nil
}

// match finds the rule for a request and counts its use.
func (h *hostileServer) match(r *http.Request) (*hostileRule, hostileData) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, r.Method+" "+r.URL.RequestURI())
	for _, rule := range h.rules {
		if rule.method != "*" && rule.method != r.Method {
			continue
		}
		if ok, _ := path.Match(rule.pattern, r.URL.Path); !ok {
			continue
		}
		if rule.times > 0 && rule.hits >= rule.times {
			continue
		}
		rule.hits++
		d := hostileData{URL: h.srv.URL, SID: hostileSID, N: rule.hits, Path: r.URL.Path, Query: r.URL.RawQuery}
		got, want := strings.Split(r.URL.Path, "/"), strings.Split(rule.pattern, "/")
		for i := range want {
			if i < len(got) && strings.ContainsAny(want[i], "*?[") {
				d.Wild = append(d.Wild, got[i])
			}
		}
		return rule, d
	}
	return nil, hostileData{}
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rule, data := h.match(r)
	if rule == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Status":"ERROR","Message":"no hostile rule for %s %s"}`, r.Method, r.URL.Path)
		return
	}
	if rule.delay > 0 {
		select {
		case <-time.After(rule.delay):
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		}
	}
	switch rule.action {
	case "hang":
		h.wait(r)
		return
	case "close":
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	var body bytes.Buffer
	if err := rule.body.Execute(&body, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for k, vs := range rule.header {
		if len(vs) == 1 && vs[0] == "" {
			w.Header()[k] = nil // sent as no header at all, not sniffed
			continue
		}
		w.Header()[k] = vs
	}
	if _, ok := rule.header["Content-Type"]; !ok {
		w.Header().Set("Content-Type", "application/json")
	}
	if rule.action == "stall" {
		w.WriteHeader(rule.status)
		w.Write(body.Bytes()[:body.Len()/2])
		http.NewResponseController(w).Flush()
		h.wait(r)
		return
	}
	if rule.action == "trickle" {
		// One byte every so often, the body and then 100 spaces: never idle
		// long, done only after a long while.
		every := rule.every
		if every == 0 {
			every = 2 * time.Second
		}
		w.WriteHeader(rule.status)
		rc := http.NewResponseController(w)
		for i := 0; i < body.Len()+100; i++ {
			b := byte(' ')
			if i < body.Len() {
				b = body.Bytes()[i]
			}
			if _, err := w.Write([]byte{b}); err != nil || rc.Flush() != nil {
				return
			}
			select {
			case <-time.After(every):
			case <-r.Context().Done():
				return
			case <-h.done:
				return
			}
		}
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(rule.status)
	w.Write(body.Bytes())
}

// wait holds an answer until the client gives up or the script ends.
func (h *hostileServer) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-h.done:
	}
}

// hostiles holds each script's hostile server.
var hostiles sync.Map // *testscript.TestScript → *hostileServer

// cmdHostile starts a server that answers what a script says, or shows what
// it was asked. See TestScripts for the rules' format.
//
//	hostile start rules.txtar
//	hostile requests
func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: hostile start RULES | hostile requests"
	if neg || len(args) == 0 {
		ts.Fatalf("%s", usage)
	}
	switch args[0] {
	case "start":
		if len(args) != 2 {
			ts.Fatalf("%s", usage)
		}
		if _, ok := hostiles.Load(ts); ok {
			ts.Fatalf("hostile: a server is already running in this script")
		}
		rules, err := parseHostile([]byte(ts.ReadFile(args[1])))
		if err != nil {
			ts.Fatalf("hostile: %s: %v", args[1], err)
		}
		h := &hostileServer{rules: rules, done: make(chan struct{})}
		h.srv = httptest.NewUnstartedServer(h)
		h.srv.Start()
		ts.Defer(func() {
			close(h.done)
			h.srv.CloseClientConnections()
			h.srv.Close()
			hostiles.Delete(ts)
		})
		hostiles.Store(ts, h)
		ts.Setenv("HOSTILE_URL", h.srv.URL)
		ts.Setenv("HOSTILE_SID", hostileSID)
		ts.Setenv("HOSTILE_TOKEN", hostileToken)
		ts.Setenv("IMPACTCTL_API_URL", h.srv.URL)
		ts.Setenv("IMPACTCTL_ACCOUNT_SID", hostileSID)
		ts.Setenv("IMPACTCTL_AUTH_TOKEN", hostileToken)
	case "requests":
		v, ok := hostiles.Load(ts)
		if !ok || len(args) != 1 {
			ts.Fatalf("usage: hostile requests, after hostile start")
		}
		h := v.(*hostileServer)
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, l := range h.log {
			fmt.Fprintln(ts.Stdout(), l)
		}
	default:
		ts.Fatalf("%s", usage)
	}
}
