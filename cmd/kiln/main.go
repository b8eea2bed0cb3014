// Command kiln is the Kiln command line: models in a kiln-registry (push,
// list, show, alias, pull, policy, validate), tables scored with a model
// (batch, evaluate, profile) and serving nodes (predict, bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/registry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// globals are the flags every command shares.
type globals struct {
	registry string
	json     bool
}

// client returns the registry client for the global flags and KILN_TOKEN.
func (g *globals) client() *registry.Client {
	return registry.NewClient(g.registry, os.Getenv("KILN_TOKEN"), nil)
}

// execute runs the command line and returns the exit code: 0 success,
// 1 failure, 2 bad usage.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "kiln: %s (see %s --help)\n", usage.err, usage.cmd)
		return 2
	}
	fmt.Fprintln(stderr, "kiln:", explain(c, err))
	return 1
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "kiln",
		Short: "Kiln: version, validate, score and serve ONNX models with a kiln-registry",
		Long: `kiln is the command line of Kiln, for people and pipelines:

  models in a kiln-registry   push, models, versions, show, pull, alias, events,
                              policy, validate (run a version's gates here)
  tables scored with a model  batch (CSV, JSONL, Parquet; local or s3://),
                              evaluate (metrics on labelled data), profile
                              (reference data for drift detection)
  serving nodes               predict (one request), bench (load test),
                              rollout (canaries and shadows across the nodes)

The registry comes from --registry or KILN_REGISTRY, the token from KILN_TOKEN.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.registry, "registry", "http://127.0.0.1:8081", "registry URL, reached with the token in $KILN_TOKEN")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of a table")
	flagenv.Bind(root.PersistentFlags(), "registry")
	// The flags given a KILN_* twin (flagenv.Bind) read it once the command
	// line is parsed; a command's own PersistentPreRunE would replace this.
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return usage(c, flagenv.Apply(c.Flags())) }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{c.CommandPath(), err} })
	root.AddCommand(pushCommand(g), modelsCommand(g), versionsCommand(g), showCommand(g), aliasCommand(g), pullCommand(g), eventsCommand(g), rolloutCommand(g))
	root.AddCommand(batchCommand(g), evaluateCommand(g), profileCommand(g))
	root.AddCommand(benchCommand(g), predictCommand(g))
	root.AddCommand(policyCommand(g), validateCommand(g))
	return root
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct {
	cmd string
	err error
}

func (u usageError) Error() string { return u.err.Error() }

// exactArgs requires n positional arguments, named in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageError{c.CommandPath(), fmt.Errorf("want %d arguments (%s), got %d", len(names), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// usage marks err, if any, as a command-line mistake of c.
func usage(c *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return usageError{c.CommandPath(), err}
}

// explain turns an error of command c into one line that says what to do.
func explain(c *cobra.Command, err error) string {
	if msg, ok := jobAdvice(c, err); ok {
		return msg
	}
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && dialedServer(c, opErr):
		return err.Error() + ": is the inference server running? Set --server"
	case errors.As(err, &opErr):
		return err.Error() + ": is kiln-registry running? Set --registry or KILN_REGISTRY"
	case errors.Is(err, registry.ErrUnauthorized):
		return err.Error() + " (set KILN_TOKEN to a registry token)"
	case errors.Is(err, registry.ErrForbidden):
		return err.Error() + " (ask for a token with a stronger role)"
	case errors.Is(err, registry.ErrDigestMismatch):
		return err.Error() + " (the download is corrupt and was discarded; retry, and report it if it persists)"
	}
	return err.Error()
}

// dialedServer reports whether a failed connection went to the OIP server
// that c's --server names rather than to the registry.
func dialedServer(c *cobra.Command, opErr *net.OpError) bool {
	f := c.Flags().Lookup("server")
	if f == nil || f.Value.String() == "" || opErr.Addr == nil {
		return false
	}
	u, err := url.Parse(f.Value.String())
	return err == nil && u.Host == opErr.Addr.String()
}
