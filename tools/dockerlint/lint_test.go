package main

import (
	"context"
	"os"
	"slices"
	"testing"
)

func lintFile(t *testing.T, path string) []Finding {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := Lint(context.Background(), path, dt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return findings
}

// TestLintFindsRuleViolations checks that BuildKit's rules run: each mistake
// in testdata/bad.Dockerfile is reported under its rule, on its line.
func TestLintFindsRuleViolations(t *testing.T) {
	findings := lintFile(t, "testdata/bad.Dockerfile")
	want := map[string]int{
		"FromAsCasing":          1,
		"MaintainerDeprecated":  2,
		"LegacyKeyValueFormat":  3,
		"SecretsUsedInArgOrEnv": 4,
		"WorkdirRelativePath":   5,
		"JSONArgsRecommended":   6,
		"DuplicateStageName":    8,
	}
	for rule, line := range want {
		if !slices.ContainsFunc(findings, func(f Finding) bool { return f.Rule == rule && f.Line == line }) {
			t.Errorf("no %s finding on line %d; got %v", rule, line, findings)
		}
	}
}

// TestLintReportsBuildError checks a Dockerfile that cannot convert is a
// finding too (with the rule that explains it), not a silent pass.
func TestLintReportsBuildError(t *testing.T) {
	findings := lintFile(t, "testdata/bad-from.Dockerfile")
	for _, rule := range []string{"UndefinedArgInFrom", "BuildError"} {
		if !slices.ContainsFunc(findings, func(f Finding) bool { return f.Rule == rule && f.Line == 1 }) {
			t.Errorf("no %s finding on line 1; got %v", rule, findings)
		}
	}
}

// TestLintCleanFile checks a Dockerfile that follows the rules has no findings.
func TestLintCleanFile(t *testing.T) {
	if findings := lintFile(t, "testdata/good.Dockerfile"); len(findings) != 0 {
		t.Errorf("clean Dockerfile: %v", findings)
	}
}

// TestRunExitCode checks the command's exit codes: 1 with findings, 0 without.
func TestRunExitCode(t *testing.T) {
	if code := run(context.Background(), []string{"testdata/bad.Dockerfile"}, nil); code != 1 {
		t.Errorf("bad Dockerfile: exit %d, want 1", code)
	}
	if code := run(context.Background(), []string{"testdata/good.Dockerfile"}, nil); code != 0 {
		t.Errorf("good Dockerfile: exit %d, want 0", code)
	}
	if code := run(context.Background(), []string{"testdata/missing.Dockerfile"}, nil); code != 2 {
		t.Errorf("missing Dockerfile: exit %d, want 2", code)
	}
}
