package commands

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootCache(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_CACHE_HOME": dir}
	c := newRootCache(func(k string) string { return env[k] })
	if k := c.kind("https://a", "IR1"); k != "" {
		t.Fatalf("empty cache: kind %q", k)
	}
	c.remember("https://a", "IR1", "brand")
	c.remember("https://b", "IR1", "agency")
	c.remember("https://a", "IR1", "agency") // replaces, not duplicates
	if k := c.kind("https://a", "IR1"); k != "agency" {
		t.Errorf("kind = %q, want agency", k)
	}
	if k := c.kind("https://b", "IR1"); k != "agency" {
		t.Errorf("another URL: kind = %q", k)
	}
	if n := len(c.read()); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
	fi, err := os.Stat(c.path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v", fi, err)
	}
	// Only the newest entries are kept.
	for i := range maxCachedRoots + 5 {
		c.remember("https://c", "IRx"+string(rune('a'+i%26))+string(rune('a'+i/26)), "agency")
	}
	if n := len(c.read()); n != maxCachedRoots {
		t.Errorf("%d entries, want %d", n, maxCachedRoots)
	}
	// A broken file is no cache, and never an error.
	os.WriteFile(c.path, []byte("{not json"), 0o600)
	if k := c.kind("https://a", "IR1"); k != "" {
		t.Errorf("broken cache: kind %q", k)
	}
	// Nor is a kind the client does not know.
	os.WriteFile(c.path, []byte(`[{"Url":"https://a","AccountSid":"IR1","Kind":"evil"}]`), 0o600)
	if k := c.kind("https://a", "IR1"); k != "" {
		t.Errorf("unknown kind taken: %q", k)
	}
	// No HOME and no XDG_CACHE_HOME: no cache, silently.
	none := newRootCache(func(string) string { return "" })
	none.remember("https://a", "IR1", "agency")
	if none.kind("https://a", "IR1") != "" || filepath.IsAbs(none.path) {
		t.Errorf("cache without a directory: %q", none.path)
	}
}
