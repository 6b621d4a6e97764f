package config

import (
	"os"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/safefile"
)

// CheckOwner refuses, as ssh does, a file or directory that another user
// owns: whoever owns it can read or replace what impactctl keeps there.
// Files root owns are accepted where rootOK says so (a config file set up
// by an administrator).
func CheckOwner(what, path string, fi os.FileInfo, rootOK bool) error {
	owners := safefile.Mine
	if rootOK {
		owners = safefile.MineOrRoot
	}
	u := safefile.Check(fi, safefile.Rule{Owners: owners})
	if u == nil {
		return nil
	}
	return cmdutil.UsageErrorf("refusing %s %s: it is owned by another user (uid %d), who could read or replace it; if it is yours, run `chown %d %s`; nothing changed",
		what, path, u.UID, safefile.Me(), path)
}

// CheckNotWritableByOthers refuses a file or directory that users other
// than its owner may write.
func CheckNotWritableByOthers(what, path string, fi os.FileInfo, fix os.FileMode) error {
	if safefile.Check(fi, safefile.Rule{NoWrite: 0o022}) != nil {
		return cmdutil.UsageErrorf("refusing %s %s: other users can write to it (mode %04o); run `chmod %o %s`; nothing changed",
			what, path, fi.Mode().Perm(), fix, path)
	}
	return nil
}

// LinkError says a file holding secrets was refused for being a link.
func LinkError(what, path string) error {
	return cmdutil.UsageErrorf("refusing %s %s: it is a symbolic link, and impactctl does not follow links for files that hold secrets; replace it with the file itself", what, path)
}

// NotRegular says what was found where a regular file belongs.
func NotRegular(what, path string, fi os.FileInfo) error {
	return cmdutil.UsageErrorf("refusing %s %s: it is %s, not a regular file", what, path, safefile.Kind(fi.Mode()))
}
