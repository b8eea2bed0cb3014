package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestFlagTwins: each flag of kiln that has a KILN_* twin takes its value
// from the variable when the command line does not give it, and the
// command line wins. Every command here fails before it reaches a server,
// after the flags are read.
func TestFlagTwins(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		flag, env, value string
	}{
		{[]string{"show", "iris"}, "registry", "KILN_REGISTRY", "http://registry.example:8081"},
		{[]string{"predict", "iris"}, "server", "KILN_SERVER", "http://serve.example:8000"},
		{[]string{"predict", "iris"}, "grpc-server", "KILN_GRPC_SERVER", "serve.example:8001"},
		{[]string{"bench", "iris", "--batch", "0"}, "server", "KILN_SERVER", "http://serve.example:8000"},
		{[]string{"bench", "iris", "--batch", "0"}, "grpc-server", "KILN_GRPC_SERVER", "serve.example:8001"},
		{[]string{"batch"}, "shard", "KILN_SHARD", "1/4"},
		{[]string{"batch"}, "s3-endpoint", "KILN_S3_ENDPOINT", "http://s3.example:9000"},
		{[]string{"batch"}, "s3-region", "KILN_S3_REGION", "eu-west-1"},
		{[]string{"batch"}, "s3-path-style", "KILN_S3_PATH_STYLE", "true"},
		{[]string{"evaluate"}, "s3-path-style", "KILN_S3_PATH_STYLE", "true"},
		{[]string{"profile"}, "s3-endpoint", "KILN_S3_ENDPOINT", "http://s3.example:9000"},
	} {
		t.Run(tc.env+"/"+tc.args[0], func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			if got := flagAfterRun(t, tc.args, tc.flag); got != tc.value {
				t.Errorf("kiln %s with %s=%s: --%s is %q", strings.Join(tc.args, " "), tc.env, tc.value, tc.flag, got)
			}
			cli := "from-the-command-line"
			if tc.value == "true" {
				cli = "false"
			}
			if got := flagAfterRun(t, append(tc.args, "--"+tc.flag+"="+cli), tc.flag); got != cli {
				t.Errorf("kiln %s --%s=%s with %s set: --%s is %q", strings.Join(tc.args, " "), tc.flag, cli, tc.env, tc.flag, got)
			}
		})
	}
}

// flagAfterRun runs kiln with args, which must fail, and returns the value
// the flag called name then had.
func flagAfterRun(t *testing.T, args []string, name string) string {
	t.Helper()
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	c, err := root.ExecuteC()
	if err == nil {
		t.Fatalf("kiln %s succeeded", strings.Join(args, " "))
	}
	return c.Flags().Lookup(name).Value.String()
}

// TestMalformedFlagTwin: a bad value in a twin is a usage error (exit 2),
// one line naming the variable, as a bad flag is.
func TestMalformedFlagTwin(t *testing.T) {
	t.Setenv("KILN_S3_PATH_STYLE", "yes")
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), []string{"batch"}, &stdout, &stderr)
	want := `kiln: invalid value "yes" for KILN_S3_PATH_STYLE (--s3-path-style): strconv.ParseBool: parsing "yes": invalid syntax (see kiln batch --help)` + "\n"
	if code != 2 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}
