package commands

import (
	"errors"
	"fmt"
	"os"
)

// errIsLink is openNoFollow's refusal of a symbolic link.
var errIsLink = errors.New("it is a symbolic link")

// checkOwner refuses, as ssh does, a file or directory that another user
// owns: whoever owns it can read or replace what impactctl keeps there.
// Files root owns are accepted where rootOK says so (a config file set up
// by an administrator).
func checkOwner(what, path string, fi os.FileInfo, rootOK bool) error {
	uid, ok := fileOwner(fi)
	if !ok {
		return nil
	}
	me := currentUser()
	if uid == me || (rootOK && uid == 0) {
		return nil
	}
	return usageErrorf("refusing %s %s: it is owned by another user (uid %d), who could read or replace it; if it is yours, run `chown %d %s`; nothing changed",
		what, path, uid, me, path)
}

// checkNotWritableByOthers refuses a file or directory that users other
// than its owner may write.
func checkNotWritableByOthers(what, path string, fi os.FileInfo, fix os.FileMode) error {
	if _, ok := fileOwner(fi); !ok {
		return nil
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return usageErrorf("refusing %s %s: other users can write to it (mode %04o); run `chmod %o %s`; nothing changed",
			what, path, fi.Mode().Perm(), fix, path)
	}
	return nil
}

// linkError says a file holding secrets was refused for being a link.
func linkError(what, path string) error {
	return usageErrorf("refusing %s %s: it is a symbolic link, and impactctl does not follow links for files that hold secrets; replace it with the file itself", what, path)
}

// notRegular says what was found where a regular file belongs.
func notRegular(what, path string, fi os.FileInfo) error {
	return usageErrorf("refusing %s %s: it is %s, not a regular file", what, path, fileKind(fi.Mode()))
}

// fileKind names a file's type for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return fmt.Sprintf("of type %v", m.Type())
}
