package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenNoFollowRefusesLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	must(t, os.WriteFile(target, []byte("x"), 0o600))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY | os.O_CREATE, os.O_RDWR | os.O_CREATE} {
		f, err := OpenNoFollow(link, flag, 0o600)
		if err == nil {
			f.Close()
			t.Fatalf("flag %#x: a link was opened", flag)
		}
		if !errors.Is(err, ErrIsLink) {
			t.Errorf("flag %#x: %v, want ErrIsLink", flag, err)
		}
	}
	// A dangling link is never created through.
	dangling := filepath.Join(dir, "dangling")
	must(t, os.Symlink(filepath.Join(dir, "elsewhere"), dangling))
	if _, err := OpenNoFollow(dangling, os.O_WRONLY|os.O_CREATE, 0o600); !errors.Is(err, ErrIsLink) {
		t.Errorf("dangling link: %v, want ErrIsLink", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
	// The file itself opens; a missing one is ErrNotExist, not a link.
	f, err := OpenNoFollow(target, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := OpenNoFollow(filepath.Join(dir, "missing"), os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrIsLink) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCheck(t *testing.T) {
	if !Modes {
		t.Skip("no Unix owners and modes here")
	}
	const nobody = 65534
	dir := t.TempDir()
	file := func(mode fs.FileMode, uid int) fs.FileInfo {
		t.Helper()
		p := filepath.Join(t.TempDir(), "f")
		must(t, os.WriteFile(p, nil, 0o600))
		must(t, os.Chmod(p, mode))
		if uid >= 0 {
			must(t, os.Chown(p, uid, -1))
		}
		fi, err := os.Lstat(p)
		must(t, err)
		return fi
	}
	dirInfo, err := os.Lstat(dir)
	must(t, err)
	for _, tc := range []struct {
		name string
		root bool // needs root: the file is given to another user
		fi   func() fs.FileInfo
		rule Rule
		want Problem // 0: passes
	}{
		{"zero rule checks nothing", false, func() fs.FileInfo { return file(0o777, -1) }, Rule{}, 0},
		{"regular file", false, func() fs.FileInfo { return file(0o600, -1) }, Rule{Type: Regular, Owners: Mine, Private: true, NoWrite: 0o022}, 0},
		{"directory where a file belongs", false, func() fs.FileInfo { return dirInfo }, Rule{Type: Regular}, WrongType},
		{"directory wanted", false, func() fs.FileInfo { return dirInfo }, Rule{Type: Directory}, 0},
		{"file where a directory belongs", false, func() fs.FileInfo { return file(0o600, -1) }, Rule{Type: Directory}, WrongType},
		{"directory is no pipe", false, func() fs.FileInfo { return dirInfo }, Rule{Type: RegularOrPipe}, WrongType},
		{"group-readable private file", false, func() fs.FileInfo { return file(0o640, -1) }, Rule{Private: true}, OpenToOthers},
		{"group-readable file", false, func() fs.FileInfo { return file(0o640, -1) }, Rule{NoWrite: 0o022}, 0},
		{"group-writable", false, func() fs.FileInfo { return file(0o620, -1) }, Rule{NoWrite: 0o022}, WritableByOthers},
		{"group-writable where only others count", false, func() fs.FileInfo { return file(0o620, -1) }, Rule{NoWrite: 0o002}, 0},
		{"others-writable", false, func() fs.FileInfo { return file(0o602, -1) }, Rule{NoWrite: 0o002}, WritableByOthers},
		{"the type is checked first", false, func() fs.FileInfo { return file(0o666, -1) }, Rule{Type: Directory, NoWrite: 0o022}, WrongType},
		{"privacy before write bits", false, func() fs.FileInfo { return file(0o666, -1) }, Rule{Private: true, NoWrite: 0o022}, OpenToOthers},
		{"another user's", true, func() fs.FileInfo { return file(0o600, nobody) }, Rule{Owners: Mine}, OtherOwner},
		{"another user's, root accepted", true, func() fs.FileInfo { return file(0o600, nobody) }, Rule{Owners: MineOrRoot}, OtherOwner},
		{"owner before write bits", true, func() fs.FileInfo { return file(0o666, nobody) }, Rule{Owners: Mine, NoWrite: 0o022}, OtherOwner},
		{"root's, root accepted", true, func() fs.FileInfo { return file(0o600, 0) }, Rule{Owners: MineOrRoot}, 0},
		{"another user's, any owner", true, func() fs.FileInfo { return file(0o600, nobody) }, Rule{NoWrite: 0o022}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root")
			}
			fi := tc.fi()
			u := Check(fi, tc.rule)
			switch {
			case tc.want == 0 && u != nil:
				t.Errorf("refused: %v", u)
			case tc.want != 0 && u == nil:
				t.Errorf("passed, want problem %d", tc.want)
			case u != nil && u.Problem != tc.want:
				t.Errorf("problem %d (%v), want %d", u.Problem, u, tc.want)
			}
			if u != nil {
				if uid, _ := Owner(fi); u.UID != uid || u.Mode != fi.Mode() {
					t.Errorf("Unsafe says uid %d mode %v, the file has %d %v", u.UID, u.Mode, uid, fi.Mode())
				}
			}
		})
	}
}

func TestUnsafeSays(t *testing.T) {
	for _, tc := range []struct {
		u    Unsafe
		want string
	}{
		{Unsafe{Problem: WrongType, Mode: fs.ModeNamedPipe | 0o600}, "it is a named pipe"},
		{Unsafe{Problem: OtherOwner, UID: 4242424}, "owned by another user (4242424)"},
		{Unsafe{Problem: OpenToOthers, Mode: 0o640}, "open to group or others (mode 0640)"},
		{Unsafe{Problem: WritableByOthers, Mode: 0o666}, "writable by group or others (mode 0666)"},
	} {
		if got := tc.u.Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%q does not say %q", got, tc.want)
		}
	}
}

func TestKind(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0:                                 "a regular file",
		fs.ModeDir:                        "a directory",
		fs.ModeSymlink:                    "a symbolic link",
		fs.ModeNamedPipe:                  "a named pipe",
		fs.ModeSocket:                     "a socket",
		fs.ModeDevice:                     "a device",
		fs.ModeIrregular:                  "of type ?---------",
		fs.ModeCharDevice | fs.ModeDevice: "a device",
	} {
		if got := Kind(m); got != want {
			t.Errorf("Kind(%v) = %q, want %q", m, got, want)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	if got := UserName(os.Geteuid()); got == "" {
		t.Error("UserName names nobody")
	}
}
