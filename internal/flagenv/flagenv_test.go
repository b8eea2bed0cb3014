package flagenv

import (
	"flag"
	"testing"
)

func TestEnvironmentFillsFlagsNotGiven(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "")
	limit := fs.Int("body-limit", 1, "")
	var models Strings
	fs.Var(&models, "model", "")
	t.Setenv("KILN_ADDR", "0.0.0.0:9000")
	t.Setenv("KILN_BODY_LIMIT", "42")
	t.Setenv("KILN_MODEL", "a=a.onnx,b=b.onnx")
	if err := fs.Parse([]string{"--body-limit", "7"}); err != nil {
		t.Fatal(err)
	}
	if err := Apply(fs); err != nil {
		t.Fatal(err)
	}
	if *addr != "0.0.0.0:9000" || *limit != 7 || models.String() != "a=a.onnx,b=b.onnx" {
		t.Errorf("addr %q limit %d models %q", *addr, *limit, models.String())
	}
	t.Setenv("KILN_BODY_LIMIT", "lots")
	fs2 := flag.NewFlagSet("y", flag.ContinueOnError)
	fs2.Int("body-limit", 1, "")
	fs2.Parse(nil)
	if err := Apply(fs2); err == nil {
		t.Error("want an error for a non-numeric KILN_BODY_LIMIT")
	}
}
