package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

func pullCommand(g *globals) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "pull NAME@REF",
		Short: "Download a model file, verifying its sha256",
		Args:  exactArgs("NAME@REF"),
		RunE: func(c *cobra.Command, args []string) error {
			ref, err := registry.ParseRef(args[0])
			if err != nil {
				return usage(c, err)
			}
			target := out
			if target == "" {
				v, err := g.client().Resolve(c.Context(), ref)
				if err != nil {
					return err
				}
				ref, target = v.Ref(), fmt.Sprintf("%s-%d.onnx", v.Name, v.Version)
			}
			v, err := g.client().DownloadFile(c.Context(), ref, target)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), map[string]any{"name": v.Name, "version": v.Version, "digest": v.Digest, "size": v.Size, "file": target})
			}
			fmt.Fprintf(c.OutOrStdout(), "pulled %s (%s, %d bytes) to %s\n", v.Ref(), v.Digest, v.Size, target)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (default NAME-VERSION.onnx)")
	return c
}
