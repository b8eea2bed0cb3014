package main

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/serve"
)

// cliArgsEnv asks the test binary to run the CLI instead of the tests (see
// runFresh): the ONNX Runtime library loads once per process, so a case
// about loading it needs a process of its own.
const cliArgsEnv = "KILN_TEST_CLI_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliArgsEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		os.Exit(execute(context.Background(), argv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runFresh runs kiln with args in a new process and returns its exit code
// and everything it printed.
func runFresh(t *testing.T, args []string) (int, string) {
	t.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(argv))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

var flagMention = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// clauseStart finds where the clause around a flag mention begins: a flag
// named after "kiln CMD" in the same clause is CMD's, any other is the
// command's own.
var clauseBreak = regexp.MustCompile(`[;(),\n]|: `)

// badFlagMentions returns the flags named in text that the command c (or,
// where the text says "kiln CMD ... --flag", CMD) does not have.
func badFlagMentions(root, c *cobra.Command, text string) []string {
	var bad []string
	for _, loc := range flagMention.FindAllStringIndex(text, -1) {
		name := text[loc[0]+2 : loc[1]]
		before := text[:loc[0]]
		if strings.HasSuffix(before, "unknown flag: ") {
			continue // the user's own mistake, quoted back
		}
		if breaks := clauseBreak.FindAllStringIndex(before, -1); len(breaks) > 0 {
			before = before[breaks[len(breaks)-1][1]:]
		}
		owner := c
		if i := strings.LastIndex(before, "kiln "); i >= 0 && (i == 0 || before[i-1] == ' ') {
			owner = root
			for _, word := range strings.Fields(before[i+len("kiln "):]) {
				sub, _, err := owner.Find([]string{word})
				if err != nil || sub == owner {
					break
				}
				owner = sub
			}
		}
		if !hasFlag(owner, name) {
			bad = append(bad, "--"+name+" (on "+owner.CommandPath()+")")
		}
	}
	return bad
}

func hasFlag(c *cobra.Command, name string) bool {
	return name == "help" || c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil
}

// walk calls fn for c and every command below it.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestHelpNamesOwnFlags walks every command: each flag its help (use line,
// descriptions, flag usages) names is one of its own, or one of the command
// the text names ("kiln push --reference").
func TestHelpNamesOwnFlags(t *testing.T) {
	root := newRoot()
	walk(root, func(c *cobra.Command) {
		texts := []string{c.Use, c.Short, c.Long}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { texts = append(texts, f.Usage) })
		for _, text := range texts {
			if bad := badFlagMentions(root, c, text); len(bad) > 0 {
				t.Errorf("%s help names flags it lacks: %v in %q", c.CommandPath(), bad, text)
			}
		}
	})
}

// TestRootHelpListsEveryCommand: kiln --help describes every command, not
// a few of them.
func TestRootHelpListsEveryCommand(t *testing.T) {
	root := newRoot()
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !regexp.MustCompile(`\b` + c.Name() + `\b`).MatchString(root.Long) {
			t.Errorf("kiln --help does not mention %s", c.Name())
		}
	}
}

// adviceCase is a command line that fails (or prints advice) and why.
type adviceCase struct {
	name string
	args []string
}

// TestErrorAdviceNamesOwnFlags runs every command with inputs that make it
// fail, each in a process of its own against a real registry (and a real
// serving node for predict), and checks that every flag its output names
// exists on that command. It also reads the Go source of kiln and of every
// package of this module it imports: each string there that names a flag
// must show up in the output of a case (or be listed in declaredAdvice with
// the commands that can print it), so a new piece of advice cannot go
// untested.
func TestErrorAdviceNamesOwnFlags(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	t.Setenv("KILN_ORT_LIB", lib)
	reg, _ := startRegistry(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	adder := writeModel(t, dir, 1)        // x float [-1,2] -> y, no feature_names
	sum := filepath.Join(dir, "sum.onnx") // x float [-1,2] -> total float [-1]: no class, no probabilities
	sumModel, err := onnx.NewBuilder("sum").
		Input("x", onnx.TensorType(onnx.Float, -1, 2)).
		Initializer("axes", onnx.Int64, []int64{1}, []int64{1}).
		Node("ReduceSum", []string{"x", "axes"}, []string{"total"}, onnx.AttrInt("keepdims", 0)).
		Output("total", onnx.TensorType(onnx.Float, -1)).
		Build()
	if err != nil || sumModel.WriteFile(sum) != nil {
		t.Fatal(err)
	}
	dyn := filepath.Join(dir, "dyn.onnx") // x float [-1,-1]: the row width comes from --data
	dynModel, err := onnx.NewBuilder("dyn").Input("x", onnx.TensorType(onnx.Float, -1, -1)).
		Node("Identity", []string{"x"}, []string{"y"}).Output("y", onnx.TensorType(onnx.Float, -1, -1)).Build()
	if err != nil || dynModel.WriteFile(dyn) != nil {
		t.Fatal(err)
	}
	irisModel, irisData := irisExample(t, "model.onnx"), irisExample(t, "iris-named.csv")
	example := write("example.json", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`)
	multi := testenv.WriteModel(t, testenv.MultiIOModel(t))
	pq := write("pq.csv", "p,q\n1,2\n3,4\n")
	pqText := write("pq.txt", "p,q\n1,2\n3,4\n")
	badRow := write("bad.csv", "p,q\n1,2\nabc,4\n")
	yCol := write("y.csv", "p,q,y\n1,2,3\n")
	mapping := write("mapping.yaml", "x: [p, q]\n")
	notJSON := write("metrics.json", "[1, 2]")
	notProfile := write("profile.json", `{"format": 1, "features": []}`)
	policy := write("policy.yaml", "protected_aliases: [production]\nmetrics:\n  accuracy: {min: 0.9}\n")
	out := func(name string) string { return filepath.Join(dir, name) }
	noORT := filepath.Join(dir, "missing", "libonnxruntime.so.1")
	for _, args := range [][]string{
		{"push", "gated", adder},
		{"push", "example", adder, "--input-example", example},
		{"policy", "set", "gated", "-f", policy},
		{"batch", "--model", adder, "--input", pq, "--features", "p,q", "--output", out("done.csv")},
	} {
		if code, _, stderr := kiln(t, reg, args...); code != 0 {
			t.Fatalf("setup %v: exit %d: %s", args, code, stderr)
		}
	}
	// A failed job leaves its checkpoint; the same output with other options is another job.
	kiln(t, reg, "batch", "--model", adder, "--input", badRow, "--features", "p,q", "--output", out("failed.csv"), "--checkpoint-rows", "1", "--batch-size", "1")
	server := startServing(t, serve.Source{Name: "iris", Version: 1, Path: irisExample(t, "model.onnx")}, serve.Source{Name: "multi", Version: 1, Path: multi},
		serve.Source{Name: "dyn", Version: 1, Path: dyn})

	cases := []adviceCase{
		{"push: no column for the input", []string{"push", "m", adder, "--reference", pq}},
		{"push: unknown reference format", []string{"push", "m", adder, "--reference", pqText, "--features", "p,q"}},
		{"push: no ONNX Runtime", []string{"push", "m", adder, "--reference", pq, "--features", "p,q", "--ort-lib", noORT}},
		{"push: column flags without --reference", []string{"push", "m", adder, "--mapping", mapping}},
		{"push: --features on two inputs", []string{"push", "m", multi, "--reference", pq, "--features", "p,q"}},
		{"push: reference and profile", []string{"push", "m", adder, "--reference", pq, "--reference-profile", notProfile}},
		{"push: not a profile", []string{"push", "m", adder, "--reference-profile", notProfile}},
		{"push: bad metric", []string{"push", "m", adder, "--metric", "accuracy=high"}},
		{"push: metric without value", []string{"push", "m", adder, "--metric", "accuracy"}},
		{"push: bad metrics file", []string{"push", "m", adder, "--metrics", notJSON}},
		{"push: bad param", []string{"push", "m", adder, "--param", "depth"}},
		{"push: bad tag", []string{"push", "m", adder, "--tag", "team"}},
		{"push: alias refused by the gates", []string{"push", "gated", adder, "--alias", "production"}},
		{"push: too few arguments", []string{"push", "m"}},
		{"alias set: refused by the gates", []string{"alias", "set", "gated", "production", "1"}},
		{"alias set: bad version", []string{"alias", "set", "gated", "production", "one"}},
		{"alias set: bad canary share", []string{"alias", "set", "gated", "production", "1", "--canary", "150"}},
		{"rollout status: bad name", []string{"rollout", "status", "Bad/Name"}},
		{"alias rm: bad name", []string{"alias", "rm", "Bad/Name", "production"}},
		{"alias ls: bad name", []string{"alias", "ls", "Bad/Name"}},
		{"alias history: bad name", []string{"alias", "history", "Bad/Name", "production"}},
		{"validate: gates fail", []string{"validate", "gated@1"}},
		{"validate: no ONNX Runtime", []string{"validate", "gated@1", "--ort-lib", noORT}},
		{"models: no registry", []string{"models", "--registry", "http://127.0.0.1:1"}},
		{"versions: bad name", []string{"versions", "Bad/Name"}},
		{"show: bad ref", []string{"show", "gated"}},
		{"show: an input example", []string{"show", "example@1"}},
		{"pull: bad ref", []string{"pull", "gated"}},
		{"events: bad name", []string{"events", "Bad/Name"}},
		{"policy show: bad name", []string{"policy", "show", "Bad/Name"}},
		{"policy set: no file", []string{"policy", "set", "gated"}},
		{"batch: missing flags", []string{"batch"}},
		{"batch: bad --on-error", []string{"batch", "--model", adder, "--input", pq, "--output", out("x.csv"), "--on-error", "maybe"}},
		{"batch: neither file nor ref", []string{"batch", "--model", "nope", "--input", pq, "--output", out("x.csv")}},
		{"batch: no column for the input", []string{"batch", "--model", adder, "--input", pq, "--output", out("x.csv")}},
		{"batch: unknown input format", []string{"batch", "--model", adder, "--input", pqText, "--output", out("x.csv"), "--features", "p,q"}},
		{"batch: bad row", []string{"batch", "--model", adder, "--input", badRow, "--output", out("bad-out.csv"), "--features", "p,q"}},
		{"batch: --keep names a missing column", []string{"batch", "--model", adder, "--input", pq, "--output", out("x.csv"), "--features", "p,q", "--keep", "zzz"}},
		{"batch: output column twice", []string{"batch", "--model", adder, "--input", yCol, "--output", out("x.csv"), "--features", "p,q"}},
		{"batch: output exists", []string{"batch", "--model", adder, "--input", pq, "--features", "p,q", "--output", out("done.csv")}},
		{"batch: another job's checkpoint", []string{"batch", "--model", adder, "--input", badRow, "--features", "p,q", "--output", out("failed.csv"), "--on-error", "skip"}},
		{"batch: no ONNX Runtime", []string{"batch", "--model", adder, "--input", pq, "--output", out("x.csv"), "--ort-lib", noORT}},
		{"profile: missing flags", []string{"profile"}},
		{"profile: bad bins", []string{"profile", "--model", adder, "--data", pq, "--bins", "0"}},
		{"profile: unknown data format", []string{"profile", "--model", adder, "--data", pqText, "--features", "p,q"}},
		{"profile: --features on two inputs", []string{"profile", "--model", multi, "--data", pq, "--features", "p,q"}},
		{"profile: no ONNX Runtime", []string{"profile", "--model", adder, "--data", pq, "--ort-lib", noORT}},
		{"evaluate: missing flags", []string{"evaluate"}},
		{"evaluate: bad task", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--task", "ranking"}},
		{"evaluate: --record of a file", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--record"}},
		{"evaluate: no such label", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "zzz"}},
		{"evaluate: no class output", []string{"evaluate", "--model", sum, "--data", yCol, "--features", "p,q", "--label", "y"}},
		{"evaluate: unknown data format", []string{"evaluate", "--model", adder, "--data", pqText, "--features", "p,q", "--label", "p"}},
		{"evaluate: baseline neither file nor ref", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--baseline", "nope"}},
		{"evaluate: baseline of another signature", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--baseline", adder}},
		{"evaluate: baseline not in the registry", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--baseline", "absent@1"}},
		{"evaluate: no ONNX Runtime", []string{"evaluate", "--model", irisModel, "--data", irisData, "--label", "species", "--ort-lib", noORT}},
		{"bench: bad batch", []string{"bench", "iris", "--batch", "0"}},
		{"bench: bad concurrency", []string{"bench", "iris", "--concurrency", "many"}},
		{"bench: no ONNX Runtime", []string{"bench", adder, "--in-process", "--ort-lib", noORT}},
		{"predict: neither --data nor --input", []string{"predict", "iris", "--server", server}},
		{"predict: --data on two inputs", []string{"predict", "multi", "--server", server, "--data", "[[1,2,3]]"}},
		{"predict: --data not JSON", []string{"predict", "iris", "--server", server, "--data", "rows"}},
		{"predict: --data no rows", []string{"predict", "iris", "--server", server, "--data", "[]"}},
		{"predict: --data row not an array", []string{"predict", "dyn", "--server", server, "--data", `["row"]`}},
		{"predict: no server", []string{"predict", "iris", "--server", "http://127.0.0.1:1", "--data", "[[1,2,3,4]]"}},
		{"predict: --data wrong width", []string{"predict", "iris", "--server", server, "--data", `[["a"]]`}},
		{"predict: unknown protocol", []string{"predict", "iris", "--protocol", "carrier-pigeon", "--data", "[[1,2,3,4]]"}},
		{"unknown flag", []string{"versions", "gated", "--nope"}},
	}

	root := newRoot()
	var outputs []string
	covered := map[string]bool{}
	for _, tc := range cases {
		c, _, err := root.Find(tc.args)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		covered[c.CommandPath()] = true
		args := append([]string{"--registry", reg}, tc.args...)
		code, output := runFresh(t, args)
		if code == 0 && !strings.Contains(output, "--") {
			t.Errorf("%s: kiln %s succeeded and printed no advice:\n%s", tc.name, strings.Join(tc.args, " "), output)
		}
		if bad := badFlagMentions(root, c, output); len(bad) > 0 {
			t.Errorf("%s: kiln %s names flags it lacks: %v\n%s", tc.name, strings.Join(tc.args, " "), bad, output)
		}
		outputs = append(outputs, output)
	}
	walk(root, func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" && c.Name() != "completion" && !covered[c.CommandPath()] {
			t.Errorf("%s has no case in TestErrorAdviceNamesOwnFlags", c.CommandPath())
		}
	})

	// Every piece of advice in the code is seen in some output, or declared.
	all := strings.Join(outputs, "\n")
	for _, lit := range adviceLiterals(t) {
		if d, ok := declaredAdvice[lit.text]; ok {
			for _, path := range d.commands {
				c, _, err := root.Find(strings.Fields(path))
				if err != nil || c.CommandPath() != "kiln "+path {
					t.Errorf("declaredAdvice %q names command %q, which does not exist", lit.text, path)
					continue
				}
				if bad := badFlagMentions(root, c, lit.text); len(bad) > 0 {
					t.Errorf("%s can print %q (%s), which names flags it lacks: %v", c.CommandPath(), lit.text, lit.pos, bad)
				}
			}
			continue
		}
		if !literalPattern(lit.text).MatchString(all) {
			t.Errorf("%s: advice %q is printed by no case of this test: add one (or declare it in declaredAdvice)", lit.pos, lit.text)
		}
	}
}

// declaredAdvice lists advice that no case can produce cheaply, with the
// commands that can print it; the test checks their flags statically.
var declaredAdvice = map[string]struct {
	commands []string
	why      string
}{
	"the checkpoint is at row %d but the input has only %d rows: the input changed; pass --overwrite to start over": {
		[]string{"batch"}, "needs an input that shrinks while its name, size and ETag stay (only kiln batch runs batch.Run)",
	},
}

// literal is a string constant of the Go source that names a flag.
type literal struct {
	text string
	pos  string
}

// adviceLiterals returns the string constants that name a flag in the
// non-test Go files of kiln and of this module's packages it imports, less
// the help texts of kiln's commands (TestHelpNamesOwnFlags checks those).
func adviceLiterals(t *testing.T) []literal {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}} {{.Dir}}", ".")
	listing, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var lits []literal
	fset := token.NewFileSet()
	for _, line := range strings.Split(strings.TrimSpace(string(listing)), "\n") {
		mod, dir, _ := strings.Cut(line, " ")
		if mod != "github.com/kilnml/kiln" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			help := helpLiterals(f)
			ast.Inspect(f, func(n ast.Node) bool {
				bl, ok := n.(*ast.BasicLit)
				if !ok || bl.Kind != token.STRING || help[bl] {
					return true
				}
				s, err := strconv.Unquote(bl.Value)
				if err == nil && flagMention.MatchString(s) {
					lits = append(lits, literal{s, fset.Position(bl.Pos()).String()})
				}
				return true
			})
		}
	}
	if len(lits) < 10 {
		t.Fatalf("found only %d advice strings: is the source scan broken?", len(lits))
	}
	return lits
}

// flagRegistration matches the pflag methods whose last argument is a usage text.
var flagRegistration = regexp.MustCompile(`^(String|Bool|Int|Int64|Uint|Float64|Duration|StringArray|StringSlice)(Var)?P?$|^Func$`)

// helpLiterals are a file's cobra help texts: Use, Short, Long and flag usages.
func helpLiterals(f *ast.File) map[*ast.BasicLit]bool {
	help := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Use" || k.Name == "Short" || k.Name == "Long") {
				if bl, ok := n.Value.(*ast.BasicLit); ok {
					help[bl] = true
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "register" {
				// tableFlags.register(c, flagName, what): a flag name and a help text.
				for _, a := range n.Args {
					if bl, ok := a.(*ast.BasicLit); ok {
						help[bl] = true
					}
				}
			}
			if ok && flagRegistration.MatchString(sel.Sel.Name) && len(n.Args) > 0 {
				last := n.Args[len(n.Args)-1]
				if _, ok := last.(*ast.FuncLit); ok && len(n.Args) > 1 {
					last = n.Args[len(n.Args)-2] // Func(name, usage, fn)
				}
				ast.Inspect(last, func(m ast.Node) bool {
					if bl, ok := m.(*ast.BasicLit); ok {
						help[bl] = true
					}
					return true
				})
			}
		}
		return true
	})
	return help
}

// literalPattern matches the text a format string prints, any value in
// place of each verb.
func literalPattern(format string) *regexp.Regexp {
	parts := regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z]`).Split(format, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(strings.ReplaceAll(p, "%%", "%"))
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*?`))
}
