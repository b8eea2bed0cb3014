package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Finding is one lint warning, or the error that stopped the Dockerfile
// from converting (Rule "BuildError").
type Finding struct {
	File    string
	Line    int
	Rule    string
	Message string
	URL     string
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
	if f.URL != "" {
		s += " (" + f.URL + ")"
	}
	return s
}

// Lint runs BuildKit's Dockerfile checks (the rules of `docker build
// --check`) over every stage of the Dockerfile in dt, offline. The
// Dockerfile's own `# check=` directive selects rules as it does for
// docker build. Build args are given as for `docker build --build-arg`.
func Lint(ctx context.Context, file string, dt []byte, buildArgs map[string]string) ([]Finding, error) {
	platform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	source := llb.NewSourceMap(nil, file, "Dockerfile", dt)
	source.Definition = &llb.Definition{} // no build context: nothing is solved
	opt := dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildArgs: buildArgs},
		SourceMap:      source,
		TargetPlatform: &platform,
		MetaResolver:   offlineResolver{},
	}
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, opt)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", file, err)
	}
	var out []Finding
	for _, w := range res.Warnings {
		f := Finding{File: file, Rule: w.RuleName, Message: w.Detail, URL: w.URL}
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			f.Line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, f)
	}
	if res.Error != nil {
		f := Finding{File: file, Rule: "BuildError", Message: res.Error.Message}
		if len(res.Error.Location.Ranges) > 0 {
			f.Line = int(res.Error.Location.Ranges[0].Start.Line)
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out, nil
}
