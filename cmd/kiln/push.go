package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/registry"
)

// pushResult is what `kiln push --json` prints.
type pushResult struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Digest  string `json:"digest"`
}

func pushCommand(g *globals) *cobra.Command {
	var (
		metrics, params, tags                     []string
		metricsFile, inputExample, profile, alias string
		reference                                 string
		table                                     tableFlags
		req                                       registry.PushRequest
	)
	c := &cobra.Command{
		Use:   "push NAME FILE.onnx",
		Short: "Push a model file as the next version of NAME",
		Long: `Push a model file as the next version of NAME, with its metrics, parameters,
tags, lineage and an input example. --reference DATA runs the model over
reference data here (ONNX Runtime) and stores the profile of its inputs and
outputs with the version, for drift detection; the columns feed the model by
--features, a --mapping file, or the model's feature_names metadata, as in
kiln profile and kiln batch.`,
		Args: exactArgs("NAME", "FILE.onnx"),
		RunE: func(c *cobra.Command, args []string) error {
			name, path := args[0], args[1]
			if err := registry.ValidateName(name); err != nil {
				return usage(c, err)
			}
			if alias != "" {
				if err := registry.ValidateAlias(alias); err != nil {
					return usage(c, err)
				}
			}
			var err error
			if req.Metrics, err = parseMetrics(metrics, metricsFile); err != nil {
				return usage(c, err)
			}
			if req.Params, err = parsePairs("--param", params); err != nil {
				return usage(c, err)
			}
			if req.Tags, err = parsePairs("--tag", tags); err != nil {
				return usage(c, err)
			}
			if inputExample != "" {
				if req.InputExample, err = readJSONFile(inputExample); err != nil {
					return err
				}
			}
			if reference != "" && profile != "" {
				return usage(c, errors.New("--reference computes the profile that --reference-profile names: pass one of them"))
			}
			if given := table.changed(c); reference == "" && len(given) > 0 {
				return usage(c, fmt.Errorf("%s say how to read --reference DATA: pass --reference too", strings.Join(given, ", ")))
			}
			var profileJSON []byte
			switch {
			case reference != "":
				profileJSON, err = referenceProfile(c, g, &table, path, reference)
			case profile != "":
				profileJSON, err = readProfileFile(profile)
			}
			if err != nil {
				return err
			}
			v, err := pushFiles(c, g.client(), name, path, profileJSON, req)
			if err != nil {
				return err
			}
			if alias != "" {
				if _, err := g.client().SetAlias(c.Context(), name, alias, v.Version, nil); err != nil {
					return aliasAfterPushError(v, alias, err)
				}
			}
			if g.json {
				return printJSON(c.OutOrStdout(), pushResult{Name: v.Name, Version: v.Version, Digest: v.Digest})
			}
			line := fmt.Sprintf("pushed %s (%s, %d bytes)", v.Ref(), v.Digest, v.Size)
			if alias != "" {
				line += "; " + name + "@" + alias + " -> " + strconv.Itoa(v.Version)
			}
			fmt.Fprintln(c.OutOrStdout(), line)
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&metrics, "metric", nil, "metric KEY=NUMBER (repeatable)")
	f.StringVar(&metricsFile, "metrics", "", `JSON file of metrics: {"accuracy": 0.93, ...}`)
	f.StringArrayVar(&params, "param", nil, "training parameter KEY=VALUE (repeatable)")
	f.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	f.StringVar(&req.Description, "description", "", "what this version is")
	f.StringVar(&inputExample, "input-example", "", "JSON file with an example OIP inference request")
	f.StringVar(&profile, "reference-profile", "", "reference-data profile file (kiln profile), for drift detection")
	f.StringVar(&reference, "reference", "", "reference data (CSV, JSONL, Parquet; local or s3://) to profile with the model and push as its reference profile")
	f.StringVar(&alias, "alias", "", "point this alias at the new version")
	f.StringVar(&req.Lineage.SourceRun, "source-run", "", "training run id or URL")
	f.StringVar(&req.Lineage.DatasetDigest, "dataset-digest", "", "digest of the training data")
	f.StringVar(&req.Lineage.GitCommit, "git-commit", "", "git commit of the training code")
	table.register(c, "reference-format", "the --reference data")
	return c
}

// aliasAfterPushError says that the version is in but --alias did not move.
// A move the model's policy refused gets its own advice: the registry's
// names kiln alias set's --force, which push does not have.
func aliasAfterPushError(v *registry.Version, alias string, err error) error {
	var refused *registry.APIError
	if errors.As(err, &refused) && refused.Report != nil {
		return fmt.Errorf("pushed %s, but %s@%s stays where it was: the policy's gates refused the version (%s); fix the version and push again, or move the alias anyway with kiln alias set %s %s %d --force (admin)",
			v.Ref(), v.Name, alias, refused.Report.Summary(), v.Name, alias, v.Version)
	}
	return fmt.Errorf("pushed %s, but setting alias %s failed: %w", v.Ref(), alias, err)
}

// pushFiles hashes the model file (and the profile), then streams them up.
func pushFiles(c *cobra.Command, client *registry.Client, name, path string, profile []byte, req registry.PushRequest) (*registry.Version, error) {
	if profile == nil {
		return client.PushFile(c.Context(), name, path, req)
	}
	var err error
	if req.Digest, err = registry.FileDigest(path); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(profile)
	req.ReferenceProfileDigest = "sha256:" + hex.EncodeToString(sum[:])
	model, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer model.Close()
	return client.Push(c.Context(), name, req, model, bytes.NewReader(profile))
}

// parseMetrics merges a metrics JSON file with KEY=NUMBER flags (flags win).
func parseMetrics(pairs []string, file string) (map[string]float64, error) {
	metrics := map[string]float64{}
	if file != "" {
		data, err := readJSONFile(file)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &metrics); err != nil {
			return nil, fmt.Errorf("--metrics %s: want a JSON object of numbers: %v", file, err)
		}
	}
	kv, err := parsePairs("--metric", pairs)
	if err != nil {
		return nil, err
	}
	for k, v := range kv {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("--metric %s=%s: the value is not a number", k, v)
		}
		metrics[k] = n
	}
	if len(metrics) == 0 {
		return nil, nil
	}
	return metrics, nil
}

// parsePairs parses KEY=VALUE flags.
func parsePairs(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, p)
		}
		m[k] = v
	}
	return m, nil
}

// readJSONFile reads a file that must hold valid JSON.
func readJSONFile(path string) (json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%s is not valid JSON", path)
	}
	return data, nil
}
