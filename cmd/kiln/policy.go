package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

func policyCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Set or show a model's validation policy (the gates a version must pass to reach a protected alias)",
	}
	c.AddCommand(policySetCommand(g), policyShowCommand(g))
	return c
}

func policySetCommand(g *globals) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "set NAME -f POLICY.yaml",
		Short: "Replace a model's validation policy (needs an admin token)",
		Long: `Reads a policy in YAML (or JSON) from the file given with -f ("-" for stdin),
checks it strictly (unknown fields are errors) and stores it on the model.
See docs/validation.md for the fields.`,
		Args: exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			if file == "" {
				return usage(c, errors.New("-f POLICY.yaml is required"))
			}
			data, err := readFileOrStdin(c, file)
			if err != nil {
				return err
			}
			p, err := validate.ParsePolicy(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			stored, err := g.client().SetPolicy(c.Context(), args[0], p)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), stored)
			}
			fmt.Fprintf(c.OutOrStdout(), "policy of %s set; protected aliases: %v\n", args[0], stored.Protected())
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", `policy file, YAML or JSON ("-": stdin)`)
	return c
}

func policyShowCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Print a model's validation policy as YAML (JSON with --json)",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			p, err := g.client().GetPolicy(c.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), p)
			}
			// Show the aliases in effect, so the output round-trips through
			// policy set even when the policy leaves them to the default.
			p.ProtectedAliases = p.Protected()
			out, err := validate.FormatYAML(*p)
			if err != nil {
				return err
			}
			_, err = c.OutOrStdout().Write(out)
			return err
		},
	}
}

// readFileOrStdin reads path, or the command's stdin for "-".
func readFileOrStdin(c *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(c.InOrStdin())
	}
	return os.ReadFile(path)
}
