// Command kiln is the Kiln command line: push models to the registry,
// list and show them, move aliases, pull model files.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

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
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "kiln: %v (see %s --help)\n", usage.err, usage.cmd)
		return 2
	}
	fmt.Fprintln(stderr, "kiln:", explain(err))
	return 1
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "kiln",
		Short:         "Kiln: push, list, alias and pull ONNX models in a kiln-registry",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("KILN_REGISTRY")
	if def == "" {
		def = "http://127.0.0.1:8081"
	}
	root.PersistentFlags().StringVar(&g.registry, "registry", def, "registry URL ($KILN_REGISTRY); the token comes from $KILN_TOKEN")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of a table")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{c.CommandPath(), err} })
	root.AddCommand(pushCommand(g), modelsCommand(g), versionsCommand(g), showCommand(g), aliasCommand(g), pullCommand(g), eventsCommand(g))
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

// explain turns an error into one line that says what to do.
func explain(err error) string {
	var opErr *net.OpError
	switch {
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
