package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

func aliasCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "alias",
		Short: "Move, remove or list a model's aliases (production, staging, ...)",
	}
	c.AddCommand(aliasSetCommand(g), aliasRmCommand(g), aliasLsCommand(g))
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
	c := &cobra.Command{
		Use:   "set NAME ALIAS VERSION",
		Short: "Point ALIAS at VERSION",
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
			a, err := g.client().SetAlias(c.Context(), name, alias, version, expect.v)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), a)
			}
			fmt.Fprintf(c.OutOrStdout(), "%s@%s -> %d\n", a.Model, a.Alias, a.Version)
			return nil
		},
	}
	expect.bind(c, "move")
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
			return table(c.OutOrStdout(), rows)
		},
	}
}
