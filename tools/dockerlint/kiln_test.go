package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

const (
	kilnDockerfile = "../../Dockerfile"
	setupORT       = "../../scripts/setup-ort.sh"
)

// TestKilnDockerfile lints the project's Dockerfile and checks the promises
// its images make: serve is the default target, both images run as a
// non-root user, and the ONNX Runtime pins are those of scripts/setup-ort.sh.
func TestKilnDockerfile(t *testing.T) {
	if findings := lintFile(t, kilnDockerfile); len(findings) != 0 {
		for _, f := range findings {
			t.Error(f)
		}
	}
	dt, err := os.ReadFile(kilnDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last := stages[len(stages)-1].Name; last != "serve" {
		t.Errorf("the default (last) stage is %q, want serve", last)
	}
	byName := map[string]instructions.Stage{}
	for _, s := range stages {
		byName[s.Name] = s
	}
	for _, name := range []string{"serve", "registry"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no %s stage", name)
			continue
		}
		if user := lastUser(s); user != "65532:65532" {
			t.Errorf("stage %s runs as %q, want the non-root 65532:65532", name, user)
		}
	}

	pins := argDefaults(byName["ort"])
	script, err := os.ReadFile(setupORT)
	if err != nil {
		t.Fatal(err)
	}
	for arg, pattern := range map[string]string{
		"ORT_VERSION":          `(?m)^version=(\S+)$`,
		"ORT_TARBALL_SHA256":   `(?m)^tarball_sha256=(\S+)$`,
		"ORT_LIB_SHA256_AMD64": `\[x64\]=(\S+)`,
		"ORT_LIB_SHA256_ARM64": `\[arm64\]=(\S+)`,
	} {
		m := regexp.MustCompile(pattern).FindSubmatch(script)
		if m == nil {
			t.Errorf("%s: no match for %s", setupORT, pattern)
			continue
		}
		if pins[arg] != string(m[1]) {
			t.Errorf("Dockerfile ARG %s=%q, but %s pins %q", arg, pins[arg], setupORT, m[1])
		}
	}
	if !strings.Contains(string(dt), `sha256sum -c`) {
		t.Error("the ort stage does not verify what it downloads with sha256sum -c")
	}
}

// lastUser returns the argument of the stage's last USER instruction.
func lastUser(s instructions.Stage) string {
	user := ""
	for _, c := range s.Commands {
		if u, ok := c.(*instructions.UserCommand); ok {
			user = u.User
		}
	}
	return user
}

// argDefaults returns the default values of the stage's ARG instructions.
func argDefaults(s instructions.Stage) map[string]string {
	out := map[string]string{}
	for _, c := range s.Commands {
		if a, ok := c.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				if kv.Value != nil {
					out[kv.Key] = *kv.Value
				}
			}
		}
	}
	return out
}
