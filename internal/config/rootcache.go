package config

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/impactcom/impactctl/internal/atomicfile"
)

// MaxCachedRoots bounds the root cache: the newest entries are kept.
const MaxCachedRoots = 200

// RootCache remembers, per API URL and Account SID, whether a token lives
// under /Agencies or /Advertisers, so a command run with environment
// credentials spends no request of the token's rate budget finding out
// again (a stored profile remembers it in the config). It holds no secret.
// A token's kind never changes; an unreadable or unwritable cache is only
// a request more.
type RootCache struct {
	path string // "" when there is no cache directory
}

// rootEntry is one remembered kind.
type rootEntry struct {
	URL  string `json:"Url"`
	SID  string `json:"AccountSid"`
	Kind string `json:"Kind"`
}

// NewRootCache returns the cache under $XDG_CACHE_HOME/impactctl (default
// ~/.cache/impactctl).
func NewRootCache(getenv func(string) string) RootCache {
	dir := getenv("XDG_CACHE_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return RootCache{}
		}
		dir = filepath.Join(home, ".cache")
	}
	return RootCache{path: filepath.Join(dir, "impactctl", "roots.json")}
}

func (c RootCache) Read() []rootEntry {
	if c.path == "" {
		return nil
	}
	b, err := os.ReadFile(c.path)
	if err != nil || len(b) > 1<<20 {
		return nil
	}
	var entries []rootEntry
	if json.Unmarshal(b, &entries) != nil {
		return nil
	}
	return entries
}

// Kind is the remembered Kind of sid at url, or "".
func (c RootCache) Kind(url, sid string) string {
	for _, e := range c.Read() {
		if e.URL == url && e.SID == sid && (e.Kind == "agency" || e.Kind == "brand") {
			return e.Kind
		}
	}
	return ""
}

// Remember records kind for sid at url, keeping the newest entries.
func (c RootCache) Remember(url, sid, kind string) {
	if c.path == "" {
		return
	}
	entries := []rootEntry{}
	for _, e := range c.Read() {
		if e.URL != url || e.SID != sid {
			entries = append(entries, e)
		}
	}
	entries = append(entries, rootEntry{URL: url, SID: sid, Kind: kind})
	if len(entries) > MaxCachedRoots {
		entries = entries[len(entries)-MaxCachedRoots:]
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(c.path), 0o700) != nil {
		return
	}
	_ = atomicfile.Write(c.path, append(b, '\n'), 0o600)
}
