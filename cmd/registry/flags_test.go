package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpUsesDoubleDash: kiln-registry --help prints its flags as --name,
// as kiln and the docs write them, exits 0 and says nothing on stderr; a
// mistake is one line naming the flag with two dashes (exit 2); Go's -name
// still works.
func TestHelpUsesDoubleDash(t *testing.T) {
	bin := buildRegistry(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--help")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("--help: %v, stderr %q", err, stderr.String())
	}
	help := stdout.String()
	for _, want := range []string{"Usage: kiln-registry [flags]", "kiln-registry token NAME ROLE",
		"--addr string", `(default "127.0.0.1:8081")`, "--store string", "--s3-path-style", "--tokens-file string"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	for _, line := range strings.Split(help, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") {
			t.Errorf("help line with a single dash: %q", line)
		}
	}

	out, err := exec.Command(bin, "--adress", "x").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || string(out) != "kiln-registry: flag provided but not defined: --adress (see kiln-registry --help)\n" {
		t.Errorf("misspelt flag: %v, output %q", err, out)
	}
	cfg, err := parseFlags([]string{"-addr", "127.0.0.1:9", "-auth", "none"})
	if err != nil || cfg.addr != "127.0.0.1:9" || cfg.auth != "none" {
		t.Errorf("single-dash flags: %+v, %v", cfg, err)
	}
}
