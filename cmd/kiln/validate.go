package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// validateFlags are the settings of `kiln validate`.
type validateFlags struct {
	record  bool
	against string
	ortLib  string
}

func validateCommand(g *globals) *cobra.Command {
	f := &validateFlags{}
	c := &cobra.Command{
		Use:   "validate NAME@REF",
		Short: "Run every gate of the model's policy on a version, on this machine",
		Long: `Downloads the version (verifying its sha256), loads it into ONNX Runtime here and
runs every gate of the model's policy: metrics, size, signature and regression
against the version behind the first protected alias (or --against ALIAS), then
the smoke test and the latency budget. Prints the report; exits 1 when a gate
fails. With --record the report is stored on the version.`,
		Args: exactArgs("NAME@REF"),
		RunE: func(c *cobra.Command, args []string) error {
			ref, err := registry.ParseRef(args[0])
			if err != nil {
				return usage(c, err)
			}
			if f.against != "" {
				if err := registry.ValidateAlias(f.against); err != nil {
					return usage(c, err)
				}
			}
			report, err := runValidation(c, g.client(), ref, f)
			if err != nil {
				return err
			}
			if g.json {
				err = printJSON(c.OutOrStdout(), report)
			} else {
				_, err = fmt.Fprint(c.OutOrStdout(), report.Table())
			}
			if err != nil {
				return err
			}
			if f.record {
				if _, err := g.client().RecordValidation(c.Context(), report.Model, report.Version, report); err != nil {
					return fmt.Errorf("record the report on %s@%d: %w", report.Model, report.Version, err)
				}
			}
			if !report.Passed {
				return errors.New(report.Summary())
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.record, "record", false, "store the report on the version (needs a writer token)")
	fl.StringVar(&f.against, "against", "", "compare with the version behind this alias (default: the policy's first protected alias)")
	fl.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime library (default: KILN_ORT_LIB, lib/, system)")
	return c
}

// runValidation resolves, downloads and loads the version and runs all gates.
func runValidation(c *cobra.Command, client *registry.Client, ref registry.Ref, f *validateFlags) (validate.Report, error) {
	ctx := c.Context()
	policy, err := client.GetPolicy(ctx, ref.Name)
	if err != nil {
		return validate.Report{}, err
	}
	model, v, _, err := openRuntimeModel(ctx, client, ref.String(), f.ortLib)
	if err != nil {
		return validate.Report{}, err
	}
	defer model.Close()
	current, err := currentHolder(c, client, ref.Name, *policy, f.against)
	if err != nil {
		return validate.Report{}, err
	}
	if current != nil && current.Version == v.Version {
		current = nil // the alias already points at it: nothing to compare
	}
	return registry.CheckVersion(ctx, *policy, v, current, model, "cli"), nil
}

// currentHolder returns the version behind alias (default: the policy's
// first protected alias), or nil when there is none.
func currentHolder(c *cobra.Command, client *registry.Client, name string, p validate.Policy, alias string) (*registry.Version, error) {
	if alias == "" {
		protected := p.Protected()
		if len(protected) == 0 {
			return nil, nil
		}
		alias = protected[0]
	}
	v, err := client.Resolve(c.Context(), registry.Ref{Name: name, Alias: alias})
	if errors.Is(err, registry.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
