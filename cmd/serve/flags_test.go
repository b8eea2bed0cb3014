package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
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

// TestAdvertisedAddress: the URL a node reports comes from
// --advertise-addr, else from the listen address, with the host name in
// place of an unspecified address.
func TestAdvertisedAddress(t *testing.T) {
	for _, tc := range []struct{ flag, listen, want string }{
		{"", "127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"", "0.0.0.0:8000", "http://node-1:8000"},
		{"", "[::]:8000", "http://node-1:8000"},
		{"10.0.0.7:9000", "0.0.0.0:8000", "http://10.0.0.7:9000"},
		{"https://serve.example.org/", "0.0.0.0:8000", "https://serve.example.org"},
	} {
		if got := advertised(tc.flag, tc.listen, "node-1"); got != tc.want {
			t.Errorf("advertised(%q, %q) = %q, want %q", tc.flag, tc.listen, got, tc.want)
		}
	}
	if got := defaultNodeID("node-1", "http://10.0.0.7:9000"); got != "node-1:9000" {
		t.Errorf("node id with a port: %q", got)
	}
	if got := defaultNodeID("node-1", "https://serve.example.org"); got != "node-1" {
		t.Errorf("node id without a port: %q", got)
	}
	t.Setenv("KILN_HEARTBEAT_INTERVAL", "2s")
	t.Setenv("KILN_ADVERTISE_ADDR", "http://10.0.0.7:8000")
	cfg, err := parseFlags([]string{"--model", "m=m.onnx"})
	if err != nil || cfg.heartbeat != 2*time.Second || cfg.advertiseAddr != "http://10.0.0.7:8000" {
		t.Errorf("env twins: %+v, %v", cfg, err)
	}
}

// TestFlagTwins: an empty KILN_GRPC_ADDR turns gRPC off, as --grpc-addr=
// does (the chart relies on it); a repeatable flag's twin is a list; a
// bad value is an error naming the variable.
func TestFlagTwins(t *testing.T) {
	t.Setenv("KILN_GRPC_ADDR", "")
	t.Setenv("KILN_MODEL", "a=a.onnx,b=b.onnx")
	t.Setenv("KILN_SHUTDOWN_TIMEOUT", "1m")
	cfg, err := parseFlags(nil)
	if err != nil || cfg.grpcAddr != "" || len(cfg.sources) != 2 || cfg.shutdownTimeout != time.Minute {
		t.Fatalf("config from the environment: %+v, %v", cfg, err)
	}
	t.Setenv("KILN_BODY_LIMIT", "lots")
	want := `invalid value "lots" for KILN_BODY_LIMIT (--body-limit): parse error (see kiln-serve --help)`
	if _, err := parseFlags(nil); err == nil || err.Error() != want {
		t.Errorf("malformed KILN_BODY_LIMIT: %v, want %q", err, want)
	}
}
