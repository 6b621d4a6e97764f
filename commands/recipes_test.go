package commands_test

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// checkHandOff checks a stub call received one new secret for sid the way
// --secret-cmd hands it over, and returns that secret.
func checkHandOff(t *testing.T, call stubCall, wantArgs []string, sid string) string {
	t.Helper()
	if !slices.Equal(call.args, wantArgs) {
		t.Errorf("args = %q, want %q", call.args, wantArgs)
	}
	secret, ok := strings.CutSuffix(call.stdin, "\n")
	if !ok || secret == "" || strings.ContainsAny(secret, "\n\r ") {
		t.Fatalf("stdin = %q, want the new secret and a newline", call.stdin)
	}
	if got := call.env["IMPACTCTL_SECRET_SID"]; got != sid {
		t.Errorf("IMPACTCTL_SECRET_SID = %q, want %q", got, sid)
	}
	for k := range call.env {
		if strings.HasPrefix(k, "IMPACTCTL_AUTH_TOKEN") {
			t.Errorf("the hand-off command saw %s", k)
		}
	}
	return secret
}

// githubRecipe is docs/ci/github-rotate-token.yml, ready to run.
type githubRecipe struct {
	srv   *recipeServer
	st    *stubs
	steps []ghStep
	tmp   string // the runner's TMPDIR
}

func loadGitHubRecipe(t *testing.T) *githubRecipe {
	t.Helper()
	var wf struct {
		On struct {
			Schedule []struct {
				Cron string `yaml:"cron"`
			} `yaml:"schedule"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Steps []ghStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "docs/ci/github-rotate-token.yml", &wf)
	if len(wf.On.Schedule) == 0 || wf.On.Schedule[0].Cron == "" {
		t.Error("the workflow runs on no schedule")
	}
	job, ok := wf.Jobs["rotate"]
	if !ok {
		t.Fatal("the workflow has no job rotate")
	}
	if len(job.Steps) == 0 || !strings.HasPrefix(job.Steps[0].Uses, "impactcom/impactctl@") {
		t.Fatalf("the first step does not install impactctl with this repository's action: %+v", job.Steps)
	}
	return &githubRecipe{srv: startRecipeServer(t), st: newStubs(t), steps: job.Steps, tmp: t.TempDir()}
}

// run runs the workflow's shell steps as run number runID would, stopping
// at the first that fails; the install step is the impactctl under test.
func (r *githubRecipe) run(t *testing.T, runID string) []shellResult {
	t.Helper()
	values := map[string]string{
		"vars.IMPACT_ACCOUNT_SID":      r.srv.sid,
		"vars.IMPACT_ROTATOR_SID":      r.srv.rotatorSID,
		"vars.IMPACT_API_URL":          r.srv.url,
		"secrets.IMPACT_ROTATOR_TOKEN": r.srv.rotatorToken,
		"secrets.IMPACT_SECRETS_PAT":   "github_pat_recipe",
		"github.repository":            "acme/shop",
		"github.run_id":                runID,
	}
	var results []shellResult
	for _, step := range r.steps {
		if step.Run == "" {
			continue
		}
		env := map[string]string{
			"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": runID, "GITHUB_REPOSITORY": "acme/shop",
			"HOME": t.TempDir(), "TMPDIR": r.tmp, "RUNNER_TEMP": t.TempDir(),
		}
		for k, v := range step.Env {
			env[k] = expand(t, v, values)
		}
		res := runShell(t, r.st, expand(t, step.Run, values), env)
		results = append(results, res)
		if res.code != 0 {
			break
		}
	}
	return results
}

func TestRecipeGitHubActionsRotatesToken(t *testing.T) {
	t.Run("weekly runs", func(t *testing.T) {
		r := loadGitHubRecipe(t)
		// A pipeline keeps authenticating with the stored secret throughout.
		consumer := startConsumer(t, r.srv, r.st)
		first := r.run(t, "1001")
		if lastCode(first) != 0 {
			t.Fatalf("the recipe failed:\n%v", first)
		}
		second := r.run(t, "1002")
		if lastCode(second) != 0 {
			t.Fatalf("the next week's run failed:\n%v", second)
		}
		consumer.finish(t)
		calls := r.st.calls(t, "gh")
		if len(calls) != 2 {
			t.Fatalf("gh was called %d times, want once a run", len(calls))
		}
		want := []string{"secret", "set", "IMPACT_AUTH_TOKEN"}
		s1 := checkHandOff(t, calls[0], want, r.srv.sid)
		s2 := checkHandOff(t, calls[1], want, r.srv.sid)
		for _, c := range calls {
			if c.env["GH_TOKEN"] != "github_pat_recipe" || c.env["GH_REPO"] != "acme/shop" {
				t.Errorf("gh ran without GH_TOKEN and GH_REPO: %v", c.env)
			}
		}
		if s1 == s2 {
			t.Error("two weeks' runs stored the same secret")
		}
		checkOverlap(t, r.srv, s1, s2)
		results := append(first, second...)
		noSecrets(t, results, r.srv.oldToken, s1, s2, r.srv.rotatorToken)
		if !strings.Contains(second[len(second)-1].stdout, "Previous Auth Token:  works until") {
			t.Errorf("the recipe did not show the token and its overlap:\n%v", second)
		}
		emptyDir(t, r.tmp)
	})

	t.Run("failed hand-off, then a re-run", func(t *testing.T) {
		r := loadGitHubRecipe(t)
		consumer := startConsumer(t, r.srv, r.st)
		r.st.failing(t, "gh", true)
		failed := r.run(t, "2001")
		if got := lastCode(failed); got != 11 {
			t.Fatalf("a failed hand-off ended %d, want 11:\n%v", got, failed)
		}
		if !strings.Contains(failed[len(failed)-1].stderr, "--idempotency-key rotate-impact-token-2001") {
			t.Errorf("exit 11 does not name the key that replays the rotation:\n%v", failed)
		}
		emptyDir(t, r.tmp)
		r.st.failing(t, "gh", false)
		rerun := r.run(t, "2001")
		if lastCode(rerun) != 0 {
			t.Fatalf("the re-run failed:\n%v", rerun)
		}
		consumer.finish(t)
		calls := r.st.calls(t, "gh")
		if len(calls) != 2 {
			t.Fatalf("gh was called %d times, want twice", len(calls))
		}
		want := []string{"secret", "set", "IMPACT_AUTH_TOKEN"}
		lost := checkHandOff(t, calls[0], want, r.srv.sid)
		stored := checkHandOff(t, calls[1], want, r.srv.sid)
		if lost != stored {
			t.Error("the re-run reset the token again instead of replaying the reset whose secret was not stored")
		}
		if got := r.srv.status(t, r.srv.sid, stored); got != http.StatusOK {
			t.Errorf("the stored secret answers %d, want 200", got)
		}
		noSecrets(t, append(failed, rerun...), r.srv.oldToken, stored, r.srv.rotatorToken)
		emptyDir(t, r.tmp)
	})
}

// gitlabJob is the job of docs/ci/gitlab-rotate-token.yml.
type gitlabJob struct {
	Image        string            `yaml:"image"`
	Variables    map[string]string `yaml:"variables"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
	Rules        []struct {
		If string `yaml:"if"`
	} `yaml:"rules"`
}

// runGitLabJob runs the job's script as pipeline pipelineID would on a
// runner: GitLab's predefined and project variables, then the job's own,
// expanded; before_script (the installs) is the impactctl under test.
func runGitLabJob(t *testing.T, job gitlabJob, srv *recipeServer, st *stubs, tmp, pipelineID string) shellResult {
	t.Helper()
	env := map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_ID": pipelineID, "CI_PIPELINE_SOURCE": "schedule",
		"CI_PROJECT_PATH": "acme/shop", "CI_SERVER_URL": "https://gitlab.example.com",
		"HOME": t.TempDir(), "TMPDIR": tmp,
		"IMPACT_ACCOUNT_SID":   srv.sid,
		"IMPACT_ROTATOR_SID":   srv.rotatorSID,
		"IMPACT_ROTATOR_TOKEN": srv.rotatorToken,
		"IMPACT_API_URL":       srv.url,
		"IMPACT_ROTATE":        "true",
		"GITLAB_TOKEN":         "glpat-recipe",
	}
	jobVars := map[string]string{}
	for k, v := range job.Variables {
		jobVars[k] = os.Expand(v, func(name string) string { return env[name] })
	}
	for k, v := range jobVars {
		env[k] = v
	}
	return runShell(t, st, strings.Join(job.Script, "\n"), env)
}

func loadGitLabJob(t *testing.T) gitlabJob {
	t.Helper()
	var pipeline map[string]gitlabJob
	readYAML(t, "docs/ci/gitlab-rotate-token.yml", &pipeline)
	job, ok := pipeline["rotate-impact-token"]
	if !ok {
		t.Fatal("the recipe has no job rotate-impact-token")
	}
	if len(job.Rules) == 0 || !strings.Contains(job.Rules[0].If, `$CI_PIPELINE_SOURCE == "schedule"`) {
		t.Error("the job does not run on a schedule")
	}
	installs := strings.Join(job.BeforeScript, "\n")
	if !strings.Contains(installs, "github.com/impactcom/impactctl/cmd/impactctl@") || !strings.Contains(installs, "glab@") {
		t.Errorf("before_script does not install impactctl and glab: %q", installs)
	}
	// Versions are pinned, never @latest, and given with or without the "v"
	// that go install needs.
	for _, v := range []string{"IMPACTCTL_VERSION", "GLAB_VERSION"} {
		if pinned := job.Variables[v]; !regexp.MustCompile(`^v?\d+\.\d+\.\d+$`).MatchString(pinned) {
			t.Errorf("%s is %q: pin a version", v, pinned)
		}
		if !strings.Contains(installs, "@v${"+v+"#v}") {
			t.Errorf("before_script does not install $%s as v${%s#v}: %q", v, v, installs)
		}
	}
	return job
}

func TestRecipeGitLabCIRotatesToken(t *testing.T) {
	want := []string{"variable", "update", "IMPACT_AUTH_TOKEN", "--masked", "--protected", "--repo", "acme/shop"}

	t.Run("scheduled runs", func(t *testing.T) {
		job := loadGitLabJob(t)
		srv, st, tmp := startRecipeServer(t), newStubs(t), t.TempDir()
		consumer := startConsumer(t, srv, st)
		first := runGitLabJob(t, job, srv, st, tmp, "501")
		if first.code != 0 {
			t.Fatalf("the job failed:\n%v", first)
		}
		second := runGitLabJob(t, job, srv, st, tmp, "502")
		if second.code != 0 {
			t.Fatalf("the next scheduled job failed:\n%v", second)
		}
		consumer.finish(t)
		calls := st.calls(t, "glab")
		if len(calls) != 2 {
			t.Fatalf("glab was called %d times, want once a run", len(calls))
		}
		s1 := checkHandOff(t, calls[0], want, srv.sid)
		s2 := checkHandOff(t, calls[1], want, srv.sid)
		for _, c := range calls {
			if c.env["GITLAB_TOKEN"] != "glpat-recipe" || c.env["GITLAB_HOST"] != "https://gitlab.example.com" {
				t.Errorf("glab ran without GITLAB_TOKEN and GITLAB_HOST: %v", c.env)
			}
		}
		if s1 == s2 {
			t.Error("two scheduled runs stored the same secret")
		}
		checkOverlap(t, srv, s1, s2)
		noSecrets(t, []shellResult{first, second}, srv.oldToken, s1, s2, srv.rotatorToken)
		if !strings.Contains(second.stdout, "Previous Auth Token:  works until") {
			t.Errorf("the job did not show the token and its overlap:\n%v", second)
		}
		emptyDir(t, tmp)
	})

	t.Run("failed hand-off, then a retry", func(t *testing.T) {
		job := loadGitLabJob(t)
		srv, st, tmp := startRecipeServer(t), newStubs(t), t.TempDir()
		consumer := startConsumer(t, srv, st)
		st.failing(t, "glab", true)
		failed := runGitLabJob(t, job, srv, st, tmp, "601")
		if failed.code != 11 {
			t.Fatalf("a failed hand-off ended %d, want 11:\n%v", failed.code, failed)
		}
		st.failing(t, "glab", false)
		retry := runGitLabJob(t, job, srv, st, tmp, "601")
		if retry.code != 0 {
			t.Fatalf("the retry failed:\n%v", retry)
		}
		consumer.finish(t)
		calls := st.calls(t, "glab")
		if len(calls) != 2 {
			t.Fatalf("glab was called %d times, want twice", len(calls))
		}
		lost := checkHandOff(t, calls[0], want, srv.sid)
		stored := checkHandOff(t, calls[1], want, srv.sid)
		if lost != stored {
			t.Error("the retry reset the token again instead of replaying the reset whose secret was not stored")
		}
		if got := srv.status(t, srv.sid, stored); got != http.StatusOK {
			t.Errorf("the stored secret answers %d, want 200", got)
		}
		noSecrets(t, []shellResult{failed, retry}, srv.oldToken, stored, srv.rotatorToken)
		emptyDir(t, tmp)
	})
}

// checkOverlap checks the secrets after two rotations with an overlap: the
// stored one works, so does the one it replaced (until the overlap ends),
// and the one before that, replaced by the second overlapping reset, does not.
func checkOverlap(t *testing.T, srv *recipeServer, s1, s2 string) {
	t.Helper()
	if got := srv.status(t, srv.sid, s2); got != http.StatusOK {
		t.Errorf("the stored secret answers %d, want 200", got)
	}
	if got := srv.status(t, srv.sid, s1); got != http.StatusOK {
		t.Errorf("the previous secret answers %d during the overlap, want 200", got)
	}
	if got := srv.status(t, srv.sid, srv.oldToken); got != http.StatusUnauthorized {
		t.Errorf("the secret before it answers %d, want 401 (at most two secrets work)", got)
	}
}
