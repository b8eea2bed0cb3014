package flagenv

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func testFlags() (*flag.FlagSet, *string, *bool) {
	fs := flag.NewFlagSet("kiln-x", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "listen address")
	verbose := fs.Bool("verbose", false, "say more")
	fs.Duration("poll-interval", 5*time.Second, "how often to poll the `registry`")
	fs.Int64("body-limit", 0, "largest body")
	return fs, addr, verbose
}

// TestHelpShowsDoubleDash: --help lists every flag as --name, with its
// type and its default, like kiln's help; nothing says -name.
func TestHelpShowsDoubleDash(t *testing.T) {
	fs, _, _ := testFlags()
	var help bytes.Buffer
	err := Parse(fs, []string{"--help"}, "Usage: kiln-x [flags]", &help)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v, want flag.ErrHelp", err)
	}
	out := help.String()
	for _, want := range []string{
		"Usage: kiln-x [flags]",
		`--addr string `, `listen address ($KILN_ADDR) (default "127.0.0.1:8000")`,
		"--poll-interval registry ", "how often to poll the registry ($KILN_POLL_INTERVAL) (default 5s)",
		"--verbose ", "--body-limit int",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "-") && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			t.Errorf("help line with a single dash: %q", line)
		}
	}
	if strings.Contains(out, "(default 0)") || strings.Contains(out, "(default false)") {
		t.Errorf("help shows zero defaults:\n%s", out)
	}
}

// TestParseErrorsNameDoubleDash: a mistake is one error naming the flag
// with two dashes, whichever way it was typed; -name still works.
func TestParseErrorsNameDoubleDash(t *testing.T) {
	for args, want := range map[string]string{
		"--nope":         "flag provided but not defined: --nope (see kiln-x --help)",
		"-nope":          "flag provided but not defined: --nope (see kiln-x --help)",
		"--body-limit=x": `invalid value "x" for flag --body-limit: parse error (see kiln-x --help)`,
		"--verbose=xyz":  `invalid boolean value "xyz" for --verbose: parse error (see kiln-x --help)`,
		"--addr":         "flag needs an argument: --addr (see kiln-x --help)",
	} {
		fs, _, _ := testFlags()
		var help bytes.Buffer
		err := Parse(fs, strings.Fields(args), "", &help)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
		if help.Len() > 0 {
			t.Errorf("%s: printed %q", args, help.String())
		}
	}
	fs, addr, verbose := testFlags()
	if err := Parse(fs, []string{"-addr", "0.0.0.0:1", "-verbose"}, "", nil); err != nil || *addr != "0.0.0.0:1" || !*verbose {
		t.Errorf("single-dash flags: err %v, addr %q, verbose %v", err, *addr, *verbose)
	}
}
