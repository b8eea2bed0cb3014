// Command dockerlint checks Dockerfiles with BuildKit's lint rules, the
// checks `docker build --check` runs, without a Docker engine or a network.
//
//	dockerlint [--build-arg KEY=VALUE]... Dockerfile...
//
// It prints one line per finding and exits 1 when there is any, 2 on bad
// usage. A `# check=` directive in the Dockerfile selects rules as it does
// for docker build (e.g. `# check=experimental=all`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
)

type buildArgs map[string]string

func (b buildArgs) String() string { return fmt.Sprint(map[string]string(b)) }

func (b buildArgs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	b[k] = v
	return nil
}

func main() {
	args := buildArgs{}
	flag.Var(args, "build-arg", "build argument KEY=VALUE, as for docker build (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: dockerlint [--build-arg KEY=VALUE]... Dockerfile...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(context.Background(), flag.Args(), args))
}

func run(ctx context.Context, files []string, args buildArgs) int {
	code := 0
	for _, file := range files {
		dt, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dockerlint:", err)
			return 2
		}
		findings, err := Lint(ctx, file, dt, args)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dockerlint:", err)
			return 2
		}
		for _, f := range findings {
			fmt.Println(f)
			code = 1
		}
		if len(findings) == 0 {
			fmt.Printf("dockerlint: %s: no findings\n", file)
		}
	}
	return code
}
