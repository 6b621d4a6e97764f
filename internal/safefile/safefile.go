// Package safefile opens files that hold secrets, or decide where secrets go,
// without following a symbolic link, and checks what it opened on the open
// descriptor: its type, its owner and its mode. The server (database, key,
// ready file) and the CLI (config, lock, token file, secret files and
// directories) share it, each saying what it found in its own words.
//
// On systems without Unix owners and modes (Windows) the owner and mode checks
// pass: such files are guarded by ACLs. A link is still refused.
package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	osuser "os/user"
	"strconv"
)

// ErrIsLink is OpenNoFollow's refusal of a symbolic link at the path's last
// element; errors.Is finds it.
var ErrIsLink = errors.New("it is a symbolic link")

// linkError is a refused link: it reads as the system's own error (and unwraps
// to it) and is ErrIsLink to errors.Is.
type linkError struct{ err error }

func (e *linkError) Error() string        { return e.err.Error() }
func (e *linkError) Unwrap() error        { return e.err }
func (e *linkError) Is(target error) bool { return target == ErrIsLink }

// Type is what a file must be.
type Type int

const (
	AnyType       Type = iota // not checked
	Regular                   // a regular file
	RegularOrPipe             // a regular file or a named pipe (bash's <(…))
	Directory                 // a directory
)

// Owners say whose a file may be.
type Owners int

const (
	AnyOwner   Owners = iota // not checked
	Mine                     // this user's (the effective user ID)
	MineOrRoot               // this user's or root's (set up by an administrator)
)

// Rule is what a file must be to be trusted. The zero Rule checks nothing;
// each field set adds its check.
type Rule struct {
	Type   Type
	Owners Owners
	// Private refuses any permission for group or others (mode & 0o077): a key.
	Private bool
	// NoWrite are the write bits that must be clear: 0o022 (group and others)
	// or 0o002 (others).
	NoWrite fs.FileMode
}

// Problem is what made a file fail its Rule.
type Problem int

const (
	WrongType        Problem = iota + 1 // not the Type the rule wants
	OtherOwner                          // owned by a user the rule does not accept
	OpenToOthers                        // Private, but group or others have a permission
	WritableByOthers                    // a NoWrite bit is set
)

// Unsafe is a file that failed its Rule: the first Problem found, checked in
// the order type, owner, privacy, write bits.
type Unsafe struct {
	Problem Problem
	UID     int         // the file's owner
	Mode    fs.FileMode // the file's mode
}

func (u *Unsafe) Error() string {
	switch u.Problem {
	case WrongType:
		return "it is " + Kind(u.Mode)
	case OtherOwner:
		return "it is owned by another user (" + UserName(u.UID) + ")"
	case OpenToOthers:
		return fmt.Sprintf("it is open to group or others (mode %04o)", u.Mode.Perm())
	}
	return fmt.Sprintf("it is writable by group or others (mode %04o)", u.Mode.Perm())
}

// Check checks fi, the status of an open file (os.File.Stat), against r: nil
// when it passes. Without Unix owners and modes only the type is checked.
func Check(fi fs.FileInfo, r Rule) *Unsafe {
	mode := fi.Mode()
	uid, owned := Owner(fi)
	bad := func(p Problem) *Unsafe { return &Unsafe{Problem: p, UID: uid, Mode: mode} }
	switch {
	case r.Type == Regular && !mode.IsRegular(),
		r.Type == RegularOrPipe && !mode.IsRegular() && mode&fs.ModeNamedPipe == 0,
		r.Type == Directory && !mode.IsDir():
		return bad(WrongType)
	case !owned:
		return nil
	case r.Owners == Mine && uid != Me(),
		r.Owners == MineOrRoot && uid != Me() && uid != 0:
		return bad(OtherOwner)
	case r.Private && mode.Perm()&0o077 != 0:
		return bad(OpenToOthers)
	case mode.Perm()&r.NoWrite != 0:
		return bad(WritableByOthers)
	}
	return nil
}

// Kind names a file's type for a message: "a directory", "a named pipe", …
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return fmt.Sprintf("of type %v", m.Type())
}

// UserName names a user for a message: the login name, else the number.
func UserName(uid int) string {
	if u, err := osuser.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}
