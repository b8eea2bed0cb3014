package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

// TestHelpUsesDoubleDash: kiln-serve --help lists every flag as --name, as
// kiln and the docs write them; a mistake names the flag with two dashes;
// Go's -name still works.
func TestHelpUsesDoubleDash(t *testing.T) {
	var help bytes.Buffer
	helpOutput = &help
	t.Cleanup(func() { helpOutput = os.Stdout })
	if _, err := parseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	out := help.String()
	for _, want := range []string{"Usage: kiln-serve", "--addr string", `(default "127.0.0.1:8000")`, "--model value",
		"--model-repository string", "--check-config", "--shutdown-timeout duration"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--") {
			t.Errorf("help line with a single dash: %q", line)
		}
	}
	if _, err := parseFlags([]string{"--adress", "x"}); err == nil || err.Error() != "flag provided but not defined: --adress (see kiln-serve --help)" {
		t.Errorf("misspelt flag: %v", err)
	}
	cfg, err := parseFlags([]string{"-addr", "127.0.0.1:9", "-model", "m=m.onnx"})
	if err != nil || cfg.addr != "127.0.0.1:9" {
		t.Errorf("single-dash flags: %+v, %v", cfg, err)
	}
}
