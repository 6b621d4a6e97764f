package commands_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdSeed adds N copies of a token to its account, written straight
// into the database of a stopped server by bench/seed.sql (copies without
// scopes whose secrets match nothing: they can be listed and changed):
//
//	seed srv/tokens.db $IMPACTCTL_ACCOUNT_SID 250
func cmdSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: seed db template-sid n")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	seed, err := os.ReadFile(filepath.Join("..", "bench", "seed.sql"))
	ts.Check(err)
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = db.Exec(string(seed), sql.Named("template", args[1]), sql.Named("n", n), sql.Named("batch", 1))
	ts.Check(err)
}
