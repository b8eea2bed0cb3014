package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

// canaryAlias is the alias `kiln alias set --canary` points at the version to try.
const canaryAlias = "candidate"

// setCanary points the candidate alias at version and says how nodes send
// it percent of the traffic, and how to promote or stop it.
func setCanary(c *cobra.Command, g *globals, name, alias string, version int, percent float64) error {
	a, err := g.client().SetAlias(c.Context(), name, canaryAlias, version, nil)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(c.OutOrStdout(), a)
	}
	pct := strconv.FormatFloat(percent, 'g', -1, 64)
	out := c.OutOrStdout()
	fmt.Fprintf(out, "%s@%s -> %d (canary for %s@%s)\n", a.Model, a.Alias, a.Version, name, alias)
	fmt.Fprintf(out, "Serving nodes whose settings file has this send it %s%% of %s's requests, and stop it by their rollback rules:\n", pct, name)
	fmt.Fprintf(out, "  models: {%s: {canary: {ref: %s@%s, percent: %s}}}\n", name, name, canaryAlias, pct)
	fmt.Fprintf(out, "Watch it:   kiln rollout status %s\n", name)
	fmt.Fprintf(out, "Promote it: kiln alias set %s %s %d\n", name, alias, version)
	fmt.Fprintf(out, "Stop it:    kiln alias rm %s %s\n", name, canaryAlias)
	return nil
}

func rolloutCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "rollout",
		Short: "See canary and shadow rollouts across the serving nodes",
	}
	c.AddCommand(&cobra.Command{
		Use:   "status NAME",
		Short: "Show a model's rollout: the aliases it follows and the stops the nodes reported",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			if err := registry.ValidateName(name); err != nil {
				return usage(c, err)
			}
			client := g.client()
			aliases, err := client.ListAliases(c.Context(), name)
			if err != nil {
				return err
			}
			events, err := allPages(func(p registry.Page) ([]registry.Event, string, error) {
				l, err := client.ListEvents(c.Context(), name, p)
				if err != nil {
					return nil, "", err
				}
				return l.Events, l.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			var stops []registry.Event
			for _, e := range events {
				if e.Type == registry.EventRolloutStopped {
					stops = append(stops, e)
				}
			}
			nodes, err := client.ListNodes(c.Context())
			if err != nil {
				return err
			}
			serving := servingRows(nodes, name)
			if g.json {
				return printJSON(c.OutOrStdout(), map[string]any{"aliases": aliases, "stopped": orEmpty(stops), "nodes": orEmpty(nodes)})
			}
			out := c.OutOrStdout()
			rows := [][]string{{"ALIAS", "VERSION", "UPDATED", "BY"}}
			for _, a := range aliases {
				rows = append(rows, []string{a.Alias, strconv.Itoa(a.Version), timeString(a.UpdatedAt), a.By})
			}
			if err := printTable(out, rows); err != nil {
				return err
			}
			if len(serving) > 1 {
				fmt.Fprintln(out, "\nServed now (the nodes' heartbeats):")
				if err := printTable(out, serving); err != nil {
					return err
				}
			}
			if len(stops) == 0 {
				fmt.Fprintln(out, "\nNo node has stopped a canary or a shadow of "+name+".")
				return nil
			}
			fmt.Fprintln(out, "\nStopped on the nodes (their rollback rules):")
			rows = [][]string{{"TIME", "NODE", "ROLE", "VERSION", "REASON"}}
			for _, e := range stops {
				rows = append(rows, []string{timeString(e.Time), e.Node, e.Role, versionCell(e.Version), e.Reason})
			}
			return printTable(out, rows)
		},
	})
	return c
}

// servingRows tabulates what each reporting node serves of model, by role:
// its primary, and its canary and shadow.
func servingRows(nodes []registry.Node, model string) [][]string {
	rows := [][]string{{"NODE", "ROLE", "REF", "VERSION", "REQ/S", "ERR/S", "P99", "HEALTH"}}
	for _, n := range nodes {
		for _, m := range n.Models {
			if m.Model != model {
				continue
			}
			role := m.Role
			if role == "" {
				role = "primary"
			}
			rows = append(rows, []string{n.Node, role, m.Ref, versionCell(m.Version),
				strconv.FormatFloat(m.RequestRate, 'f', 1, 64), strconv.FormatFloat(m.ErrorRate, 'f', 2, 64),
				(time.Duration(m.P99 * float64(time.Second))).Round(time.Microsecond).String(), n.Health})
		}
	}
	return rows
}
