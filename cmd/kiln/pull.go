package main

import (
	"fmt"
	"os"
	"path/filepath"

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
			dir := "."
			if out != "" {
				dir = filepath.Dir(out)
			}
			// Download beside the target, then rename: a failed or corrupt
			// download never leaves a file under the target name.
			tmp, err := os.CreateTemp(dir, ".kiln-pull-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			v, err := g.client().Download(c.Context(), ref, tmp)
			if err == nil {
				err = tmp.Chmod(0o644)
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			target := out
			if target == "" {
				target = fmt.Sprintf("%s-%d.onnx", v.Name, v.Version)
			}
			if err := os.Rename(tmp.Name(), target); err != nil {
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
