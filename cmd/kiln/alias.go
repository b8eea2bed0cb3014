package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

func aliasCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "alias",
		Short: "Move, remove or list a model's aliases (production, staging, ...)",
	}
	c.AddCommand(aliasSetCommand(g), aliasRmCommand(g), aliasLsCommand(g), aliasHistoryCommand(g))
	return c
}

// expectFlag is an optional --expect VERSION.
type expectFlag struct{ v *int }

func (e *expectFlag) bind(c *cobra.Command, what string) {
	c.Flags().Func("expect", "only "+what+" if the alias is now at this version (0: if it does not exist)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("want a version number or 0")
		}
		e.v = &n
		return nil
	})
}

func aliasSetCommand(g *globals) *cobra.Command {
	var expect expectFlag
	var force bool
	var canary float64
	c := &cobra.Command{
		Use:   "set NAME ALIAS VERSION",
		Short: "Point ALIAS at VERSION (a protected alias only if VERSION passes the policy's gates)",
		Args:  exactArgs("NAME", "ALIAS", "VERSION"),
		RunE: func(c *cobra.Command, args []string) error {
			name, alias := args[0], args[1]
			version, err := strconv.Atoi(args[2])
			if err != nil || version < 1 {
				return usage(c, fmt.Errorf("VERSION %q: want a version number", args[2]))
			}
			if err := registry.ValidateName(name); err != nil {
				return usage(c, err)
			}
			if err := registry.ValidateAlias(alias); err != nil {
				return usage(c, err)
			}
			if c.Flags().Changed("canary") {
				if canary <= 0 || canary > 100 {
					return usage(c, fmt.Errorf("--canary %v: want a percentage above 0 and at most 100", canary))
				}
				return setCanary(c, g, name, alias, version, canary)
			}
			a, err := g.client().MoveAlias(c.Context(), name, alias, registry.SetAliasRequest{Version: version, Expect: expect.v, Force: force})
			var refused *registry.APIError
			if errors.As(err, &refused) && refused.Report != nil {
				printReport(c, g, *refused.Report)
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), a)
			}
			if a.Report != nil && !a.Report.Passed {
				fmt.Fprint(c.OutOrStdout(), a.Report.Table())
				fmt.Fprintf(c.OutOrStdout(), "%s@%s -> %d (forced past failed gates; audited)\n", a.Model, a.Alias, a.Version)
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "%s@%s -> %d\n", a.Model, a.Alias, a.Version)
			return nil
		},
	}
	expect.bind(c, "move")
	c.Flags().BoolVar(&force, "force", false, "move a protected alias even if the version fails its gates (admin token; audited)")
	c.Flags().Float64Var(&canary, "canary", 0, "instead of moving ALIAS, point the "+canaryAlias+" alias at VERSION and print how serving nodes send PERCENT of the traffic to it, and how to promote or stop it")
	return c
}

func aliasRmCommand(g *globals) *cobra.Command {
	var expect expectFlag
	c := &cobra.Command{
		Use:   "rm NAME ALIAS",
		Short: "Remove ALIAS",
		Args:  exactArgs("NAME", "ALIAS"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			if err := registry.ValidateAlias(args[1]); err != nil {
				return usage(c, err)
			}
			if err := g.client().DeleteAlias(c.Context(), args[0], args[1], expect.v); err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), map[string]string{"model": args[0], "removed": args[1]})
			}
			fmt.Fprintf(c.OutOrStdout(), "removed %s@%s\n", args[0], args[1])
			return nil
		},
	}
	expect.bind(c, "remove")
	return c
}

func aliasLsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls NAME",
		Short: "List the aliases of a model",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			aliases, err := g.client().ListAliases(c.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), registry.AliasList{Aliases: orEmpty(aliases)})
			}
			rows := [][]string{{"ALIAS", "VERSION", "UPDATED", "BY"}}
			for _, a := range aliases {
				rows = append(rows, []string{a.Alias, strconv.Itoa(a.Version), timeString(a.UpdatedAt), a.By})
			}
			return printTable(c.OutOrStdout(), rows)
		},
	}
}

// printReport prints a gate report: a table, or JSON with --json.
func printReport(c *cobra.Command, g *globals, r validate.Report) {
	if g.json {
		printJSON(c.OutOrStdout(), r)
		return
	}
	fmt.Fprint(c.OutOrStdout(), r.Table())
}
