package commands

import (
	"runtime/debug"
	"testing"
)

func TestBuildInfoCompletedFrom(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		stamped buildInfo
		info    debug.BuildInfo
		want    buildInfo
		line    string
	}{
		{
			name:    "go install at a tag",
			stamped: buildInfo{Version: "dev"},
			info:    debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			want:    buildInfo{Version: "1.2.3"},
			line:    "impactctl 1.2.3 go1.26.0 linux/amd64",
		},
		{
			name:    "build in a checkout",
			stamped: buildInfo{Version: "dev"},
			info:    debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want:    buildInfo{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-01-02T03:04:05Z", Modified: true},
			line:    "impactctl dev (0123456789ab+dirty, 2026-01-02T03:04:05Z) go1.26.0 linux/amd64",
		},
		{
			name:    "release build",
			stamped: buildInfo{Version: "1.4.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-03-04T05:06:07Z"},
			info:    debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want:    buildInfo{Version: "1.4.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-03-04T05:06:07Z"},
			line:    "impactctl 1.4.0 (fedcba987654, 2026-03-04T05:06:07Z) go1.26.0 linux/amd64",
		},
		{
			name:    "nothing recorded",
			stamped: buildInfo{Version: "dev"},
			want:    buildInfo{Version: "dev"},
			line:    "impactctl dev go1.26.0 linux/amd64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.stamped.completedFrom(&tt.info)
			if got != tt.want {
				t.Errorf("completedFrom = %+v, want %+v", got, tt.want)
			}
			got.Go, got.Platform = "go1.26.0", "linux/amd64"
			if s := got.String(); s != tt.line {
				t.Errorf("String() = %q, want %q", s, tt.line)
			}
		})
	}
}
