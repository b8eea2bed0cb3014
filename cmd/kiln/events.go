package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

func eventsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "events NAME",
		Short: "Show a model's audit log: pushes, updates, alias moves, deletions",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			events, err := allPages(func(p registry.Page) ([]registry.Event, string, error) {
				l, err := g.client().ListEvents(c.Context(), args[0], p)
				if err != nil {
					return nil, "", err
				}
				return l.Events, l.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), registry.EventList{Events: orEmpty(events)})
			}
			rows := [][]string{{"TIME", "EVENT", "VERSION", "DETAIL", "BY"}}
			for _, e := range events {
				rows = append(rows, []string{timeString(e.Time), e.Type, versionCell(e.Version), eventDetail(e), e.By})
			}
			return printTable(c.OutOrStdout(), rows)
		},
	}
}

func versionCell(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func eventDetail(e registry.Event) string {
	switch e.Type {
	case registry.EventPush:
		return shortDigest(e.Digest)
	case registry.EventAliasSet:
		detail := fmt.Sprintf("%s: %s -> %d", e.Alias, versionCell(e.From), e.Version)
		if e.Forced {
			detail += " FORCED"
		}
		return detail + reportDetail(e.Report)
	case registry.EventAliasRefused:
		return fmt.Sprintf("%s: %s -> %d refused", e.Alias, versionCell(e.From), e.Version) + reportDetail(e.Report)
	case registry.EventValidation:
		if e.Report != nil {
			return e.Report.Summary() + ", by " + e.Report.Where
		}
	case registry.EventPolicySet:
		if e.Policy != nil {
			return fmt.Sprintf("protects %v", e.Policy.Protected())
		}
	case registry.EventAliasDelete:
		return fmt.Sprintf("%s: %d -> removed", e.Alias, e.From)
	case registry.EventVersionUpdate:
		return joinMap(e.Metrics) + " " + joinMap(e.Tags)
	case registry.EventRolloutStopped:
		return fmt.Sprintf("%s stopped on %s: %s", e.Role, e.Node, e.Reason)
	}
	return ""
}

// reportDetail summarizes a gate report for the events table ("" when none).
func reportDetail(r *validate.Report) string {
	if r == nil {
		return ""
	}
	return " (" + r.Summary() + ")"
}
