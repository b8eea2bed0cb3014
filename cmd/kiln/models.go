package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

// allPages collects every page of a paged listing.
func allPages[T any](fetch func(registry.Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := registry.Page{Size: 1000}
	for {
		items, next, err := fetch(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		p.Token = next
	}
}

func modelsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the models in the registry",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			models, err := allPages(func(p registry.Page) ([]registry.Model, string, error) {
				l, err := g.client().ListModels(c.Context(), p)
				if err != nil {
					return nil, "", err
				}
				return l.Models, l.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), registry.ModelList{Models: orEmpty(models)})
			}
			rows := [][]string{{"NAME", "LATEST", "ALIASES", "CREATED"}}
			for _, m := range models {
				rows = append(rows, []string{m.Name, strconv.Itoa(m.LatestVersion), joinMap(m.Aliases), timeString(m.CreatedAt)})
			}
			return printTable(c.OutOrStdout(), rows)
		},
	}
}

func versionsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "versions NAME",
		Short: "List the versions of a model",
		Args:  exactArgs("NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := registry.ValidateName(args[0]); err != nil {
				return usage(c, err)
			}
			versions, err := allPages(func(p registry.Page) ([]registry.Version, string, error) {
				l, err := g.client().ListVersions(c.Context(), args[0], p)
				if err != nil {
					return nil, "", err
				}
				return l.Versions, l.NextPageToken, nil
			})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), registry.VersionList{Versions: orEmpty(versions)})
			}
			rows := [][]string{{"VERSION", "DIGEST", "SIZE", "METRICS", "CREATED", "BY"}}
			for _, v := range versions {
				rows = append(rows, []string{strconv.Itoa(v.Version), shortDigest(v.Digest), strconv.FormatInt(v.Size, 10), joinMap(v.Metrics), timeString(v.Lineage.CreatedAt), v.Lineage.CreatedBy})
			}
			return printTable(c.OutOrStdout(), rows)
		},
	}
}

func showCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME@REF",
		Short: "Show one version: signature, metrics, lineage (REF is a version number or an alias)",
		Args:  exactArgs("NAME@REF"),
		RunE: func(c *cobra.Command, args []string) error {
			ref, err := registry.ParseRef(args[0])
			if err != nil {
				return usage(c, err)
			}
			v, err := g.client().Resolve(c.Context(), ref)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), v)
			}
			w := c.OutOrStdout()
			field(w, "model", v.Ref().String())
			field(w, "digest", v.Digest)
			field(w, "size", strconv.FormatInt(v.Size, 10)+" bytes")
			field(w, "description", v.Description)
			field(w, "created", timeString(v.Lineage.CreatedAt)+" by "+v.Lineage.CreatedBy)
			field(w, "source run", v.Lineage.SourceRun)
			field(w, "dataset", v.Lineage.DatasetDigest)
			field(w, "git commit", v.Lineage.GitCommit)
			field(w, "metrics", joinMap(v.Metrics))
			field(w, "params", joinMap(v.Params))
			field(w, "tags", joinMap(v.Tags))
			field(w, "opsets", joinMap(v.Format.Opsets))
			for _, in := range v.Signature.Inputs {
				field(w, "input", in.Name+" "+in.Type)
			}
			for _, out := range v.Signature.Outputs {
				field(w, "output", out.Name+" "+out.Type)
			}
			if v.ReferenceProfile != nil {
				field(w, "profile", fmt.Sprintf("%s (%d bytes)", v.ReferenceProfile.Digest, v.ReferenceProfile.Size))
			}
			if len(v.InputExample) > 0 {
				field(w, "input example", fmt.Sprintf("%d bytes of JSON (see --json)", len(v.InputExample)))
			}
			return nil
		},
	}
}

// orEmpty makes a nil slice print as [] in JSON.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
