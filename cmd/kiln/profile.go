package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/drift"
)

// profileFlags are the options of a reference profile.
type profileFlags struct {
	bins, sample int
	categorical  string
}

func (p *profileFlags) register(c *cobra.Command) {
	c.Flags().IntVar(&p.bins, "bins", drift.DefaultBins, "histogram bins per numeric feature")
	c.Flags().IntVar(&p.sample, "sample", drift.DefaultSampleSize, "reference values kept per numeric feature for the KS and Wasserstein tests")
	c.Flags().StringVar(&p.categorical, "categorical", "", "numeric features to treat as categories, comma separated")
}

func (p *profileFlags) options() (drift.ProfileOptions, error) {
	if p.bins < 1 || p.sample < 1 {
		return drift.ProfileOptions{}, fmt.Errorf("--bins %d and --sample %d must be positive", p.bins, p.sample)
	}
	opts := drift.ProfileOptions{Bins: p.bins, SampleSize: p.sample}
	if p.categorical != "" {
		opts.Categorical = strings.Split(p.categorical, ",")
	}
	return opts, nil
}

func profileCommand(g *globals) *cobra.Command {
	var (
		m         modelFlags
		pf        profileFlags
		data, out string
	)
	c := &cobra.Command{
		Use:   "profile --model NAME@REF|FILE.onnx --data PATH [-o profile.json]",
		Short: "Profile reference data and the model's outputs on it, for drift detection",
		Long: `Read reference data (CSV, JSONL or Parquet; a file, a folder, or s3://),
run the model over it, and write a reference profile: per input feature a
histogram, moments and a sample (numbers) or frequencies (categories), and the
same for each model output (class frequencies of labels, histograms of
scores). A serving node compares live traffic with it (docs/drift.md). Push
it with a version: kiln push NAME FILE.onnx --reference-profile profile.json,
or let kiln push --reference DATA compute it.

Feature names come from --features, a --mapping file, or the model's
feature_names metadata.`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if m.model == "" || data == "" {
				return usage(c, errors.New("--model and --data are required"))
			}
			opts, err := pf.options()
			if err != nil {
				return usage(c, err)
			}
			format, err := m.inputFormat()
			if err != nil {
				return usage(c, err)
			}
			score, err := m.scoreOptions()
			if err != nil {
				return usage(c, err)
			}
			lm, err := g.loadModel(c.Context(), &m, m.model)
			if err != nil {
				return err
			}
			defer lm.close()
			res, err := batch.Profile(c.Context(), batch.ScanOptions{
				Input: data, InputFormat: format, Predictor: lm.pred, Score: score,
				BatchSize: m.batchSize, Workers: m.workers, Storage: m.storage(),
			}, opts)
			if err != nil {
				return err
			}
			warnSkipped(c.ErrOrStderr(), res)
			if out == "" {
				return printJSON(c.OutOrStdout(), res.Profile)
			}
			if err := writeProfile(out, res.Profile); err != nil {
				return err
			}
			if g.json {
				return printJSON(c.OutOrStdout(), map[string]any{"file": out, "rows": res.Profile.Rows, "skipped": res.Skipped})
			}
			fmt.Fprintf(c.OutOrStdout(), "profiled %d rows to %s\n", res.Profile.Rows, out)
			return printTable(c.OutOrStdout(), profileRows(res.Profile))
		},
	}
	m.register(c, "data-format", "the reference data")
	pf.register(c)
	c.Flags().StringVar(&data, "data", "", "reference data: file, folder, or s3://bucket/key or prefix (CSV, JSONL, Parquet)")
	c.Flags().StringVarP(&out, "output", "o", "", "profile file to write (default: print the JSON)")
	return c
}

// warnSkipped says how many rows the profile left out, and why the first.
func warnSkipped(w io.Writer, res *batch.ProfileResult) {
	if res.Skipped > 0 {
		fmt.Fprintf(w, "kiln: warning: skipped %d rows that could not be scored; the first: %v\n", res.Skipped, res.FirstError)
	}
}

// writeProfile writes the profile as JSON to path.
func writeProfile(path string, p *drift.Profile) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// profileRows is the summary table of a profile: one row per column.
func profileRows(p *drift.Profile) [][]string {
	rows := [][]string{{"COLUMN", "ROLE", "KIND", "COUNT", "MISSING", "SUMMARY"}}
	for _, group := range []struct {
		role string
		fs   []drift.FeatureProfile
	}{{"feature", p.Features}, {"output", p.Outputs}} {
		for _, f := range group.fs {
			summary := fmt.Sprintf("mean %.4g, std %.4g, min %.4g, max %.4g", f.Mean, f.Std, f.Min, f.Max)
			if f.Kind == drift.Categorical {
				summary = strconv.Itoa(len(f.Frequencies)) + " categories: " + joinMap(f.Frequencies)
				if len(summary) > 80 {
					summary = summary[:77] + "..."
				}
			}
			rows = append(rows, []string{f.Name, group.role, f.Kind, strconv.FormatInt(f.Count, 10), strconv.FormatInt(f.Missing, 10), summary})
		}
	}
	return rows
}

// referenceProfile profiles reference data with the model file at
// modelPath, with the default profile options, for kiln push --reference;
// t are push's table flags.
func referenceProfile(c *cobra.Command, g *globals, t *tableFlags, modelPath, data string) ([]byte, error) {
	score, err := t.scoreOptions()
	if err != nil {
		return nil, usage(c, err)
	}
	format, err := t.inputFormat()
	if err != nil {
		return nil, usage(c, err)
	}
	// The batch size and the workers take their defaults.
	m := modelFlags{tableFlags: *t}
	lm, err := g.loadModel(c.Context(), &m, modelPath)
	if err != nil {
		return nil, err
	}
	defer lm.close()
	res, err := batch.Profile(c.Context(), batch.ScanOptions{Input: data, InputFormat: format, Predictor: lm.pred, Score: score, Storage: t.storage()}, drift.ProfileOptions{})
	if err != nil {
		return nil, fmt.Errorf("--reference %s: %w", data, err)
	}
	warnSkipped(c.ErrOrStderr(), res)
	return json.Marshal(res.Profile)
}

// readProfileFile reads a profile file and checks it is one.
func readProfileFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := drift.ParseProfile(data); err != nil {
		return nil, fmt.Errorf("--reference-profile %s: %w (write one with kiln profile)", path, err)
	}
	return data, nil
}
