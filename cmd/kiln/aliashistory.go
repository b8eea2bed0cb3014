package main

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

// aliasMove is one row of `kiln alias history`.
type aliasMove struct {
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`
	From   int       `json:"from"`
	To     int       `json:"to"`
	By     string    `json:"by,omitempty"`
	Forced bool      `json:"forced,omitempty"`
	// Gates summarizes the gate report of a protected move.
	Gates string `json:"gates,omitempty"`
}

func aliasHistoryCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME ALIAS",
		Short: "List the moves of ALIAS, oldest first: rollback is moving it back",
		Long: `Lists every move of ALIAS from the model's audit log: when, from which version
to which, by whom, whether it was forced past failed gates, and moves the gates
refused (TO is 0 when the alias was removed).`,
		Args: exactArgs("NAME", "ALIAS"),
		RunE: func(c *cobra.Command, args []string) error {
			name, alias := args[0], args[1]
			if err := registry.ValidateName(name); err != nil {
				return usage(c, err)
			}
			if err := registry.ValidateAlias(alias); err != nil {
				return usage(c, err)
			}
			events, err := allPages(func(p registry.Page) ([]registry.Event, string, error) {
				l, err := g.client().ListEvents(c.Context(), name, p)
				if err != nil {
					return nil, "", err
				}
				return l.Events, l.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			moves := aliasMoves(events, alias)
			if g.json {
				return printJSON(c.OutOrStdout(), map[string]any{"model": name, "alias": alias, "moves": moves})
			}
			rows := [][]string{{"TIME", "EVENT", "FROM", "TO", "BY", "FORCED", "GATES"}}
			for _, m := range moves {
				forced := ""
				if m.Forced {
					forced = "yes"
				}
				rows = append(rows, []string{timeString(m.Time), m.Event, versionCell(m.From), versionCell(m.To), m.By, forced, m.Gates})
			}
			return printTable(c.OutOrStdout(), rows)
		},
	}
}

// aliasMoves picks the moves of alias out of a model's events.
func aliasMoves(events []registry.Event, alias string) []aliasMove {
	moves := []aliasMove{}
	for _, e := range events {
		if e.Alias != alias {
			continue
		}
		m := aliasMove{Time: e.Time, From: e.From, By: e.By, Forced: e.Forced}
		switch e.Type {
		case registry.EventAliasSet:
			m.Event, m.To = "moved", e.Version
		case registry.EventAliasDelete:
			m.Event = "removed"
		case registry.EventAliasRefused:
			m.Event, m.To = "refused", e.Version
		default:
			continue
		}
		if e.Report != nil {
			m.Gates = strconv.Itoa(len(e.Report.Gates)-len(e.Report.Failed())) + "/" + strconv.Itoa(len(e.Report.Gates)) + " passed"
		}
		moves = append(moves, m)
	}
	return moves
}
