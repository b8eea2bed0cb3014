package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
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

// TestFlagTwins: each flag of kiln-registry reads its KILN_* twin when
// the command line does not give it; --s3-region falls back to
// $AWS_REGION; a bad value is an error naming the variable.
func TestFlagTwins(t *testing.T) {
	t.Setenv("KILN_AUTH", "none")
	t.Setenv("KILN_NODE_TTL", "2m")
	t.Setenv("KILN_MAX_MODEL_SIZE", "512MiB")
	t.Setenv("KILN_S3_PART_SIZE", "16MiB")
	t.Setenv("KILN_S3_UPLOAD_THREADS", "4")
	t.Setenv("KILN_S3_PATH_STYLE", "true")
	t.Setenv("KILN_REDIRECT_DOWNLOADS", "true")
	t.Setenv("KILN_ADDR", "0.0.0.0:8081")
	t.Setenv("AWS_REGION", "us-east-2")
	cfg, err := parseFlags([]string{"--addr", "127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.auth != "none" || cfg.nodeTTL != 2*time.Minute || cfg.maxModelSize != 512<<20 || cfg.s3.PartSize != 16<<20 ||
		cfg.s3.UploadThreads != 4 || !cfg.s3.PathStyle || !cfg.redirect || cfg.addr != "127.0.0.1:9" || cfg.s3.Region != "us-east-2" {
		t.Errorf("config from the environment: %+v", cfg)
	}
	t.Setenv("KILN_S3_REGION", "eu-west-1")
	if cfg, err := parseFlags(nil); err != nil || cfg.s3.Region != "eu-west-1" {
		t.Errorf("KILN_S3_REGION over AWS_REGION: %+v, %v", cfg, err)
	}
	if cfg, err := parseFlags([]string{"--s3-region", "ap-south-1"}); err != nil || cfg.s3.Region != "ap-south-1" {
		t.Errorf("--s3-region over KILN_S3_REGION: %+v, %v", cfg, err)
	}
	t.Setenv("KILN_NODE_TTL", "soon")
	want := `invalid value "soon" for KILN_NODE_TTL (--node-ttl): parse error (see kiln-registry --help)`
	if _, err := parseFlags(nil); err == nil || err.Error() != want {
		t.Errorf("malformed KILN_NODE_TTL: %v, want %q", err, want)
	}
}
