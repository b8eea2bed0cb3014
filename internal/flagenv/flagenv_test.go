package flagenv

import (
	"flag"
	"testing"

	"github.com/spf13/pflag"
)

// TestEnvironmentFillsFlagsNotGiven: Parse takes each flag not on the
// command line from its twin; the command line wins; a repeatable flag
// takes a list; an empty variable empties a string flag and leaves any
// other at its default.
func TestEnvironmentFillsFlagsNotGiven(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "")
	grpc := fs.String("grpc-addr", "127.0.0.1:8001", "")
	limit := fs.Int("body-limit", 1, "")
	verbose := fs.Bool("verbose", true, "")
	var models Strings
	fs.Var(&models, "model", "")
	t.Setenv("KILN_ADDR", "0.0.0.0:9000")
	t.Setenv("KILN_GRPC_ADDR", "")
	t.Setenv("KILN_BODY_LIMIT", "42")
	t.Setenv("KILN_VERBOSE", "")
	t.Setenv("KILN_MODEL", "a=a.onnx,b=b.onnx")
	if err := Parse(fs, []string{"--body-limit", "7"}, "", nil); err != nil {
		t.Fatal(err)
	}
	if *addr != "0.0.0.0:9000" || *grpc != "" || *limit != 7 || !*verbose || models.String() != "a=a.onnx,b=b.onnx" {
		t.Errorf("addr %q grpc-addr %q limit %d verbose %v models %q", *addr, *grpc, *limit, *verbose, models.String())
	}
}

// TestMalformedVariableIsAnError: a bad value in a twin is an error that
// names the variable and its flag, as a bad flag is.
func TestMalformedVariableIsAnError(t *testing.T) {
	t.Setenv("KILN_BODY_LIMIT", "lots")
	fs := flag.NewFlagSet("kiln-x", flag.ContinueOnError)
	fs.Int("body-limit", 1, "")
	err := Parse(fs, nil, "", nil)
	want := `invalid value "lots" for KILN_BODY_LIMIT (--body-limit): parse error (see kiln-x --help)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	fs = flag.NewFlagSet("kiln-x", flag.ContinueOnError)
	fs.Int("body-limit", 1, "")
	if err := Parse(fs, []string{"--body-limit=3"}, "", nil); err != nil {
		t.Errorf("a bad twin of a flag given on the command line: %v", err)
	}
}

// TestBoundFlags: of a pflag set, only the flags Bind names read their
// twins, after the command line; an empty variable counts as unset; help
// names the twin; a bad value names the variable.
func TestBoundFlags(t *testing.T) {
	newSet := func() (*pflag.FlagSet, *string, *bool, *string) {
		fs := pflag.NewFlagSet("kiln batch", pflag.ContinueOnError)
		server := fs.String("server", "http://127.0.0.1:8000", "OIP REST server URL")
		pathStyle := fs.Bool("s3-path-style", false, "path-style S3")
		model := fs.String("model", "", "model")
		Bind(fs, "server", "s3-path-style")
		return fs, server, pathStyle, model
	}
	t.Setenv("KILN_SERVER", "http://serve:8000")
	t.Setenv("KILN_S3_PATH_STYLE", "true")
	t.Setenv("KILN_MODEL", "iris")
	fs, server, pathStyle, model := newSet()
	if usage := fs.Lookup("server").Usage; usage != "OIP REST server URL ($KILN_SERVER)" {
		t.Errorf("usage %q", usage)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := Apply(fs); err != nil || *server != "http://serve:8000" || !*pathStyle || *model != "" {
		t.Errorf("from the environment: server %q path style %v model %q, %v", *server, *pathStyle, *model, err)
	}
	fs, server, _, _ = newSet()
	fs.Parse([]string{"--server", "http://other:8000"})
	if err := Apply(fs); err != nil || *server != "http://other:8000" {
		t.Errorf("command line over environment: server %q, %v", *server, err)
	}
	t.Setenv("KILN_SERVER", "")
	fs, server, _, _ = newSet()
	fs.Parse(nil)
	if err := Apply(fs); err != nil || *server != "http://127.0.0.1:8000" {
		t.Errorf("empty KILN_SERVER: server %q, %v", *server, err)
	}
	t.Setenv("KILN_S3_PATH_STYLE", "yes please")
	fs, _, _, _ = newSet()
	fs.Parse(nil)
	want := `invalid value "yes please" for KILN_S3_PATH_STYLE (--s3-path-style): strconv.ParseBool: parsing "yes please": invalid syntax`
	if err := Apply(fs); err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
