package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/table"
)

// tableFlags are the flags of every command that reads a table (CSV, JSONL
// or Parquet; a file, a folder or s3://) and feeds its columns to a model
// run here: kiln batch, evaluate, profile and push --reference. They are one
// set so that the advice in errors ("pass --features or a --mapping file",
// "pass --ort-lib") names flags each of these commands has.
type tableFlags struct {
	features    string
	mapping     string
	format      string
	s3Endpoint  string
	s3Region    string
	s3PathStyle bool
	ortLib      string
}

// formatAnnotation marks the flag that gives a command's input format, the
// one that advice about an unknown format names (see formatFlags).
const formatAnnotation = "kiln/input-format"

// register adds the flags to c; formatFlag names the flag of the table's
// format (kiln batch: input-format) and what is the table it reads.
func (t *tableFlags) register(c *cobra.Command, formatFlag, what string) {
	f := c.Flags()
	f.StringVar(&t.features, "features", "", "columns of "+what+" that feed the model's single input, in order, comma separated (default: the model's feature_names metadata)")
	f.StringVar(&t.mapping, "mapping", "", "YAML or JSON file mapping each model input to its column(s) of "+what)
	f.StringVar(&t.format, formatFlag, "", "format of "+what+": csv, jsonl or parquet (default: from the file name)")
	f.SetAnnotation(formatFlag, formatAnnotation, []string{"true"})
	f.StringVar(&t.s3Endpoint, "s3-endpoint", "", "S3 server URL for s3:// paths, credentials from the AWS environment")
	f.StringVar(&t.s3Region, "s3-region", "", "S3 region for s3:// paths, by default $AWS_REGION")
	f.BoolVar(&t.s3PathStyle, "s3-path-style", false, "address S3 buckets as ENDPOINT/BUCKET (MinIO, versitygw); without it, path style for endpoints other than AWS")
	f.StringVar(&t.ortLib, "ort-lib", "", "path of libonnxruntime.so.1 (default: KILN_ORT_LIB, lib/ beside bin/, system)")
	flagenv.Bind(f, "s3-endpoint", "s3-region", "s3-path-style")
}

// changed reports whether any of the column flags was given.
func (t *tableFlags) changed(c *cobra.Command) []string {
	var names []string
	c.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "features" || f.Name == "mapping" || f.Annotations[formatAnnotation] != nil {
			names = append(names, "--"+f.Name)
		}
	})
	return names
}

// scoreOptions turns --features and --mapping into batch options.
func (t *tableFlags) scoreOptions() (batch.ScoreOptions, error) {
	var opts batch.ScoreOptions
	if t.features != "" {
		opts.Features = strings.Split(t.features, ",")
	}
	if t.mapping != "" {
		data, err := os.ReadFile(t.mapping)
		if err != nil {
			return opts, err
		}
		if opts.Mapping, err = batch.ParseMapping(data); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// inputFormat parses the format flag.
func (t *tableFlags) inputFormat() (table.Format, error) { return table.ParseFormat(t.format) }

// storage opens local and s3:// paths, with --s3-endpoint, --s3-region and
// --s3-path-style.
func (t *tableFlags) storage() *table.Storage {
	opts := table.S3OptionsFromEnv()
	if t.s3Endpoint != "" {
		opts.Endpoint = t.s3Endpoint
	}
	if t.s3Region != "" {
		opts.Region = t.s3Region
	}
	opts.PathStyle = t.s3PathStyle
	return table.NewStorage(opts)
}

// startOver is the advice for a job that cannot resume.
const startOver = "pass --overwrite to start over"

// jobAdvice adds to the errors of pkg/batch and pkg/table that need the
// user's choice what to do about them, naming flags of the command c that
// failed; ok is false for any other error.
func jobAdvice(c *cobra.Command, err error) (msg string, ok bool) {
	var keep *batch.KeepError
	var dup *batch.DuplicateColumnError
	switch {
	case errors.As(err, &keep):
		advice := fmt.Sprintf("--keep names column %q, which the input lacks (columns: %s)", keep.Column, strings.Join(keep.Columns, ", "))
		return strings.Replace(err.Error(), keep.Error(), advice, 1), true
	case errors.As(err, &dup):
		return err.Error() + ": leave the input column out with --keep", true
	case errors.Is(err, batch.ErrOutputExists):
		return err.Error() + "; pass --overwrite to replace it", true
	case errors.Is(err, batch.ErrOtherJob):
		return err.Error() + ": run the same command to resume it, or " + startOver, true
	case errors.Is(err, batch.ErrInputChanged):
		return err.Error() + "; " + startOver, true
	case errors.Is(err, table.ErrUnknownFormat):
		return err.Error() + "; pass " + formatFlags(c) + " (csv, jsonl, parquet)", true
	}
	return "", false
}

// formatFlags names the flags of c that give a table's format: kiln
// batch's --input-format and --output-format, or the one flag marked with
// formatAnnotation.
func formatFlags(c *cobra.Command) string {
	if c.Flags().Lookup("input-format") != nil {
		return "--input-format or --output-format"
	}
	var format string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Annotations[formatAnnotation] != nil {
			format = f.Name
		}
	})
	return "--" + format
}
