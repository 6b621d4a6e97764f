package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootCache(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_CACHE_HOME": dir}
	c := NewRootCache(func(k string) string { return env[k] })
	if k := c.Kind("https://a", "IR1"); k != "" {
		t.Fatalf("empty cache: kind %q", k)
	}
	c.Remember("https://a", "IR1", "brand")
	c.Remember("https://b", "IR1", "agency")
	c.Remember("https://a", "IR1", "agency") // replaces, not duplicates
	if k := c.Kind("https://a", "IR1"); k != "agency" {
		t.Errorf("kind = %q, want agency", k)
	}
	if k := c.Kind("https://b", "IR1"); k != "agency" {
		t.Errorf("another URL: kind = %q", k)
	}
	if n := len(c.Read()); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
	fi, err := os.Stat(c.path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v", fi, err)
	}
	// Only the newest entries are kept.
	for i := range MaxCachedRoots + 5 {
		c.Remember("https://c", "IRx"+string(rune('a'+i%26))+string(rune('a'+i/26)), "agency")
	}
	if n := len(c.Read()); n != MaxCachedRoots {
		t.Errorf("%d entries, want %d", n, MaxCachedRoots)
	}
	// A broken file is no cache, and never an error.
	os.WriteFile(c.path, []byte("{not json"), 0o600)
	if k := c.Kind("https://a", "IR1"); k != "" {
		t.Errorf("broken cache: kind %q", k)
	}
	// Nor is a kind the client does not know.
	os.WriteFile(c.path, []byte(`[{"Url":"https://a","AccountSid":"IR1","Kind":"evil"}]`), 0o600)
	if k := c.Kind("https://a", "IR1"); k != "" {
		t.Errorf("unknown kind taken: %q", k)
	}
	// No HOME and no XDG_CACHE_HOME: no cache, silently.
	none := NewRootCache(func(string) string { return "" })
	none.Remember("https://a", "IR1", "agency")
	if none.Kind("https://a", "IR1") != "" || filepath.IsAbs(none.path) {
		t.Errorf("cache without a directory: %q", none.path)
	}
}
