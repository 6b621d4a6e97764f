package server

import (
	"os/exec"
	"strings"
	"testing"
)

// The server's packages import one another in one direction only (ARCHITECTURE.md):
// the root composes; httpapi speaks HTTP to the service and knows no store; service
// holds the domain and the rules and knows no store, no SQL, no HTTP layer, no rate limit,
// no outbox and no mail; the store knows the service's types but neither the root nor the HTTP
// layer; the leaves (ratelimit, outbox, mail) know nothing above them. Test files may import
// more: only the packages' own imports count.
func TestImportRules(t *testing.T) {
	const mod = "github.com/impactcom/impactctl/"
	ours := func(p string) string { return mod + p }
	clientSide := []string{ours("client"), ours("commands"), ours("output"), ours("internal/keyring"), ours("internal/scopepicker")}
	rules := map[string][]string{
		ours("server"): clientSide,
		ours("server/service"): append([]string{ours("server"), ours("server/store"), ours("server/httpapi"), ours("server/ratelimit"),
			ours("server/outbox"), ours("server/mail"), "database/sql", "github.com/jackc/pgx", "modernc.org/sqlite"}, clientSide...),
		ours("server/store"):     append([]string{ours("server"), ours("server/httpapi"), ours("server/mail")}, clientSide...),
		ours("server/httpapi"):   append([]string{ours("server"), ours("server/store"), "database/sql", "github.com/jackc/pgx", "modernc.org/sqlite"}, clientSide...),
		ours("server/ratelimit"): {mod, "net/http"},
		ours("server/outbox"):    append([]string{ours("server"), ours("server/service"), ours("server/store"), ours("server/httpapi"), ours("server/ratelimit"), "database/sql", "net/http"}, clientSide...),
		ours("server/mail"):      {mod, "database/sql"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		forbidden, ok := rules[pkg]
		if !ok {
			continue
		}
		seen[pkg] = true
		for _, imp := range imports {
			for _, f := range forbidden {
				// A rule names a package (exactly) or, ending in "/", every package under it;
				// a module path matches its packages.
				hit := imp == f || strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f) ||
					!strings.HasPrefix(f, mod) && strings.HasPrefix(imp, f+"/")
				if hit && !(f == mod && strings.HasPrefix(imp, pkg+"/")) {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
	for pkg := range rules {
		if !seen[pkg] {
			t.Errorf("go list did not list %s", pkg)
		}
	}
}
