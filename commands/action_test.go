package commands_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRelease writes release archives of the impactctl under test, as the
// release build names them, and their checksums.txt into a new directory.
func fakeRelease(t *testing.T, version string) string {
	t.Helper()
	bin, err := exec.LookPath("impactctl")
	if err != nil {
		t.Fatalf("impactctl is not on PATH: %v", err)
	}
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("the action's test needs tar")
	}
	dir := t.TempDir()
	stage := t.TempDir()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"impactctl": data, "LICENSE": []byte("license\n"), "README.md": []byte("readme\n")} {
		if err := os.WriteFile(filepath.Join(stage, name), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var sums strings.Builder
	for _, target := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"} {
		name := fmt.Sprintf("impactctl_%s_%s.tar.gz", version, target)
		cmd := exec.Command("tar", "-czf", filepath.Join(dir, name), "-C", stage, "impactctl", "LICENSE", "README.md")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		fmt.Fprintf(&sums, "%s  %s\n", fileSHA256(t, filepath.Join(dir, name)), name)
	}
	// A Windows archive that the Linux and macOS runners must not pick.
	win := fmt.Sprintf("impactctl_%s_windows_amd64.zip", version)
	if err := os.WriteFile(filepath.Join(dir, win), []byte("not for this runner"), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&sums, "%s  %s\n", fileSHA256(t, filepath.Join(dir, win)), win)
	if err := os.WriteFile(filepath.Join(dir, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// actionRun is the outcome of running action.yml's steps.
type actionRun struct {
	results   []shellResult
	path      []string // what the action added to GITHUB_PATH
	installed string   // its output path
}

// runAction runs action.yml's steps with the given inputs on a runner of
// runnerOS/runnerArch, downloading from the release in releaseDir served at
// releaseBase.
func runAction(t *testing.T, st *stubs, inputs map[string]string, runnerOS, runnerArch, releaseDir, releaseBase string) actionRun {
	t.Helper()
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string   `yaml:"using"`
			Steps []ghStep `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, "action.yml", &action)
	if action.Runs.Using != "composite" {
		t.Fatalf("action.yml runs %q, want composite", action.Runs.Using)
	}
	values := map[string]string{}
	for name, in := range action.Inputs {
		values["inputs."+name] = in.Default
	}
	for name, v := range inputs {
		if _, ok := action.Inputs[name]; !ok {
			t.Fatalf("action.yml has no input %s", name)
		}
		values["inputs."+name] = v
	}
	runnerTemp := t.TempDir()
	pathFile := filepath.Join(t.TempDir(), "github_path")
	var run actionRun
	for _, step := range action.Runs.Steps {
		switch step.If {
		case "":
		case "inputs.command != ''":
			if values["inputs.command"] == "" {
				continue
			}
		default:
			t.Fatalf("the test cannot evaluate if: %s", step.If)
		}
		if step.Shell != "bash" {
			t.Fatalf("step %q runs in %q, want bash (on every runner)", step.Name, step.Shell)
		}
		outputFile := filepath.Join(t.TempDir(), "github_output")
		env := map[string]string{
			"CI": "true", "GITHUB_ACTIONS": "true", "HOME": t.TempDir(),
			"RUNNER_OS": runnerOS, "RUNNER_ARCH": runnerArch, "RUNNER_TEMP": runnerTemp,
			"GITHUB_PATH": pathFile, "GITHUB_OUTPUT": outputFile,
			"RELEASE_DIR": releaseDir, "RELEASE_BASE": releaseBase,
		}
		for k, v := range step.Env {
			env[k] = expand(t, v, values)
		}
		res := runShell(t, st, expand(t, step.Run, values), env)
		run.results = append(run.results, res)
		if res.code != 0 {
			break
		}
		if out, err := os.ReadFile(outputFile); err == nil && step.ID != "" {
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					values["steps."+step.ID+".outputs."+k] = v
				}
			}
		}
	}
	if data, err := os.ReadFile(pathFile); err == nil {
		run.path = strings.Fields(string(data))
	}
	run.installed = values["steps.install.outputs.path"]
	return run
}

func TestActionInstallsAndRuns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the action's steps are tested on Unix runners")
	}
	srv := startRecipeServer(t)
	release := fakeRelease(t, "1.4.0")
	latest := "https://github.com/impactcom/impactctl/releases/latest/download"

	t.Run("latest, and a command with the secret masked", func(t *testing.T) {
		st := newStubs(t)
		run := runAction(t, st, map[string]string{
			"command":     "auth status",
			"account-sid": srv.rotatorSID,
			"auth-token":  srv.rotatorToken,
			"api-url":     srv.url,
		}, "Linux", "X64", release, latest)
		if len(run.results) != 2 || lastCode(run.results) != 0 {
			t.Fatalf("the action failed:\n%v", run.results)
		}
		if len(run.path) != 1 || run.path[0] != run.installed {
			t.Errorf("GITHUB_PATH = %q, want the install directory %q", run.path, run.installed)
		}
		if _, err := os.Stat(filepath.Join(run.installed, "impactctl")); err != nil {
			t.Errorf("nothing installed: %v", err)
		}
		out, errOut := run.results[1].stdout, run.results[1].stderr
		mask := "::add-mask::" + srv.rotatorToken + "\n"
		if !strings.HasPrefix(errOut, mask) {
			t.Errorf("the step's stderr does not start with the mask:\n%s", errOut)
		}
		if !strings.Contains(out, "Status:") || strings.Contains(out, srv.rotatorToken) || strings.Count(errOut, srv.rotatorToken) != 1 {
			t.Errorf("auth status did not run, or printed the secret beyond its mask:\n%s\n%s", out, errOut)
		}
		urls, _ := os.ReadFile(filepath.Join(st.log, "curl.urls"))
		wantURLs := latest + "/checksums.txt\n" + latest + "/impactctl_1.4.0_linux_amd64.tar.gz\n"
		if string(urls) != wantURLs {
			t.Errorf("downloaded\n%s\nwant\n%s", urls, wantURLs)
		}
	})

	t.Run("a pinned version on macOS arm64; quotes honoured, nothing expanded", func(t *testing.T) {
		st := newStubs(t)
		pinned := "https://github.com/impactcom/impactctl/releases/download/v1.4.0"
		work := t.TempDir()
		marker := filepath.Join(work, "expanded")
		run := runAction(t, st, map[string]string{
			"version":     "1.4.0",
			"command":     `tokens list --name '$(touch ` + marker + `)' -o json --jq length`,
			"account-sid": srv.rotatorSID,
			"auth-token":  srv.rotatorToken,
			"api-url":     srv.url,
		}, "macOS", "ARM64", release, pinned)
		urls, _ := os.ReadFile(filepath.Join(st.log, "curl.urls"))
		if !strings.Contains(string(urls), pinned+"/impactctl_1.4.0_darwin_arm64.tar.gz") {
			t.Errorf("downloaded %s, want the darwin_arm64 archive of v1.4.0", urls)
		}
		if lastCode(run.results) != 0 {
			t.Fatalf("the action failed:\n%v", run.results)
		}
		// The name filter reached impactctl as written: no token has it.
		if out := run.results[1].stdout; out != "0\n" {
			t.Errorf("stdout = %q, want no token named $(touch …)", out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the action expanded $(…) in its command")
		}
	})

	t.Run("a quoted argument reaches impactctl as one word", func(t *testing.T) {
		st := newStubs(t)
		run := runAction(t, st, map[string]string{
			"command":     `tokens list --name 'Read-only auditor' -o json --jq '.[].Name'`,
			"account-sid": srv.rotatorSID,
			"auth-token":  srv.rotatorToken,
			"api-url":     srv.url,
		}, "Linux", "ARM64", release, latest)
		if lastCode(run.results) != 0 {
			t.Fatalf("the action failed:\n%v", run.results)
		}
		if out := run.results[1].stdout; out != "Read-only auditor\n" {
			t.Errorf("stdout = %q, want the one token named Read-only auditor", out)
		}
	})

	t.Run("an escaped double quote inside double quotes is one character", func(t *testing.T) {
		st := newStubs(t)
		run := runAction(t, st, map[string]string{
			"command":     `tokens list --name "Read-only auditor" -o json --jq "\"[\" + .[0].Name + \"]\""`,
			"account-sid": srv.rotatorSID,
			"auth-token":  srv.rotatorToken,
			"api-url":     srv.url,
		}, "Linux", "X64", release, latest)
		if lastCode(run.results) != 0 {
			t.Fatalf("the action failed:\n%v", run.results)
		}
		if out := run.results[1].stdout; out != "[Read-only auditor]\n" {
			t.Errorf("stdout = %q, want [Read-only auditor]", out)
		}
	})

	t.Run("shell syntax in the command is refused, not run", func(t *testing.T) {
		st := newStubs(t)
		run := runAction(t, st, map[string]string{"command": "tokens list | tee leaked"}, "Linux", "X64", release, latest)
		if lastCode(run.results) == 0 {
			t.Fatalf("a command holding a pipe ran:\n%v", run.results)
		}
	})

	t.Run("a tampered archive is refused", func(t *testing.T) {
		st := newStubs(t)
		tampered := t.TempDir()
		entries, err := os.ReadDir(release)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(release, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if e.Name() == "impactctl_1.4.0_linux_amd64.tar.gz" {
				data = append(data, 0)
			}
			if err := os.WriteFile(filepath.Join(tampered, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run := runAction(t, st, map[string]string{"command": "version"}, "Linux", "X64", tampered, latest)
		if len(run.results) != 1 || run.results[0].code == 0 {
			t.Fatalf("a tampered archive was installed:\n%v", run.results)
		}
		if len(run.path) != 0 {
			t.Errorf("GITHUB_PATH = %q after a refused download", run.path)
		}
		if !strings.Contains(run.results[0].stdout+run.results[0].stderr, "FAILED") {
			t.Errorf("the refusal does not say the checksum failed:\n%v", run.results[0])
		}
	})

	t.Run("inputs are checked before any download", func(t *testing.T) { checkActionInputs(t, release) })

	t.Run("an unknown runner is refused", func(t *testing.T) {
		st := newStubs(t)
		run := runAction(t, st, nil, "Linux", "ARM", release, latest)
		if len(run.results) != 1 || run.results[0].code == 0 || !strings.Contains(run.results[0].stdout, "::error::") {
			t.Fatalf("an unsupported runner was not refused:\n%v", run.results)
		}
	})
}

// checkActionInputs: version must be latest or a version, and repository
// owner/name; anything else fails before any download, so no input can steer
// the download to another repository's release. release is a release of
// 1.4.0 (the archives are named in its checksums.txt).
func checkActionInputs(t *testing.T, release string) {
	for _, tc := range []struct {
		name, version, repository string
	}{
		{"a version holding a path", "1.0.0/../../../../evil/impactctl/releases/download/v6.6.6", ""},
		{"a version with a query", "1.0.0?x=1", ""},
		{"two numbers", "1.4", ""},
		{"a trailing space", "1.4.0 ", ""},
		{"a workflow command", "1.4.0\n::warning::injected", ""},
		{"an empty version", "", ""},
		{"build metadata", "1.4.0+build.1", ""},
		{"an empty pre-release", "1.4.0-", ""},
		{"a pre-release holding a path", "1.4.0-rc/../x", ""},
		{"latest with a path", "latest/../../evil", ""},
		{"a repository without an owner", "", "impactctl"},
		{"a repository holding a path", "", "evil/impactctl/releases/download/v6.6.6/../../../../../impactcom/impactctl"},
		{"a repository going up", "", "impactcom/.."},
		{"a repository that is a dot", "", "impactcom/."},
		{"an owner starting with a hyphen", "", "-evil/impactctl"},
		{"an owner too long", "", strings.Repeat("a", 40) + "/impactctl"},
		{"a repository with a host", "", "evil.example/x@y"},
		{"a repository with a space", "", "impactcom/impact ctl"},
		{"an empty repository", "", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStubs(t)
			inputs := map[string]string{}
			if tc.version != "" || tc.repository == "" {
				inputs["version"] = tc.version
			}
			if tc.repository != "" {
				inputs["repository"] = tc.repository
			}
			run := runAction(t, st, inputs, "Linux", "X64", release, "https://github.com")
			if len(run.results) != 1 || run.results[0].code == 0 || !strings.Contains(run.results[0].stdout, "::error::the ") {
				t.Fatalf("not refused:\n%v", run.results)
			}
			if urls, _ := os.ReadFile(filepath.Join(st.log, "curl.urls")); len(urls) != 0 {
				t.Errorf("downloaded before the inputs were checked:\n%s", urls)
			}
			if strings.Contains(run.results[0].stdout, "injected") {
				t.Errorf("the refusal echoes the input:\n%s", run.results[0].stdout)
			}
		})
	}
	// Accepted: a version with or without v and with a pre-release, from
	// another well-formed repository.
	for _, version := range []string{"1.4.0-rc.1", "v1.4.0-rc.1"} {
		t.Run("accepts "+version, func(t *testing.T) {
			st := newStubs(t)
			base := "https://github.com/my-org/impactctl.fork_2/releases/download/v1.4.0-rc.1"
			run := runAction(t, st, map[string]string{"version": version, "repository": "my-org/impactctl.fork_2"}, "Linux", "X64", release, base)
			if lastCode(run.results) != 0 {
				t.Fatalf("the action failed:\n%v", run.results)
			}
			urls, _ := os.ReadFile(filepath.Join(st.log, "curl.urls"))
			if want := base + "/checksums.txt\n" + base + "/impactctl_1.4.0_linux_amd64.tar.gz\n"; string(urls) != want {
				t.Errorf("downloaded\n%s\nwant\n%s", urls, want)
			}
		})
	}
}
