package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/oip"
)

func predictCommand(g *globals) *cobra.Command {
	var srv serverFlags
	var version, input, data string
	var binary bool
	c := &cobra.Command{
		Use:   "predict MODEL (--data ROWS | --input REQUEST.json)",
		Short: "Send one inference request to an OIP server and print the outputs",
		Long: `Sends an inference request to MODEL on the OIP server at --server (kiln-serve,
Triton, KServe), or with --protocol grpc at --grpc-server, and prints each output. --data gives the rows of the model's
single input as JSON (e.g. '[[5.1,3.5,1.4,0.2]]'), its datatype and name taken
from the model's metadata; --input gives a whole OIP request (a file, or - for
standard input).`,
		Args: exactArgs("MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			if (data == "") == (input == "") {
				return usage(c, fmt.Errorf("give exactly one of --data and --input"))
			}
			if err := srv.validate(); err != nil {
				return usage(c, err)
			}
			client, err := srv.dial(1)
			if err != nil {
				return err
			}
			defer client.close()
			var req *oip.InferRequest
			if input != "" {
				req, err = readRequest(input)
			} else {
				req, err = rowsRequest(c, client, args[0], version, data)
			}
			if err != nil {
				return err
			}
			resp, err := client.infer(c.Context(), args[0], version, req, binary)
			if err != nil {
				return fmt.Errorf("%s: %w", client.address(), err)
			}
			if g.json {
				return printJSON(c.OutOrStdout(), resp)
			}
			rows := [][]string{{"OUTPUT", "DATATYPE", "SHAPE", "DATA"}}
			for _, t := range resp.Outputs {
				js, err := json.Marshal(t)
				if err != nil {
					return err
				}
				var view struct {
					Data json.RawMessage `json:"data"`
				}
				json.Unmarshal(js, &view)
				rows = append(rows, []string{t.Name, string(t.Datatype), fmt.Sprint(t.Shape), string(view.Data)})
			}
			fmt.Fprintf(c.OutOrStdout(), "%s version %s\n", resp.ModelName, resp.ModelVersion)
			return printTable(c.OutOrStdout(), rows)
		},
	}
	srv.register(c)
	c.Flags().StringVar(&version, "model-version", "", "model version (default: the server's default)")
	c.Flags().StringVar(&data, "data", "", "rows of the model's single input, as JSON")
	c.Flags().StringVar(&input, "input", "", "an OIP inference request JSON file, or - for standard input")
	c.Flags().BoolVar(&binary, "binary", false, "use the binary tensor data extension (gRPC: raw contents)")
	return c
}

// readRequest reads an OIP request from a file or standard input.
func readRequest(path string) (*oip.InferRequest, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	req, err := oip.DecodeRequest(raw, -1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return req, nil
}

// rowsRequest builds a request for a single-input model from JSON rows,
// with the input's name and datatype from the model's metadata.
func rowsRequest(c *cobra.Command, client *server, model, version, rows string) (*oip.InferRequest, error) {
	md, err := client.modelMetadata(c.Context(), model, version)
	if err != nil {
		return nil, err
	}
	if len(md.Inputs) != 1 {
		return nil, fmt.Errorf("%s has %d inputs; use --input with a whole request", model, len(md.Inputs))
	}
	var nested []json.RawMessage
	if err := json.Unmarshal([]byte(rows), &nested); err != nil {
		return nil, fmt.Errorf("--data: want a JSON array of rows: %w", err)
	}
	in := md.Inputs[0]
	if len(nested) == 0 || len(in.Shape) == 0 {
		return nil, fmt.Errorf("--data: want at least one row for input %q %v", in.Name, in.Shape)
	}
	shape := append([]int64{int64(len(nested))}, in.Shape[1:]...)
	if len(shape) == 2 && shape[1] < 0 {
		var first []json.RawMessage
		if err := json.Unmarshal(nested[0], &first); err != nil {
			return nil, fmt.Errorf("--data: row 0 is not an array: %w", err)
		}
		shape[1] = int64(len(first))
	}
	body := fmt.Sprintf(`{"inputs":[{"name":%q,"datatype":%q,"shape":%s,"data":%s}]}`, in.Name, in.Datatype, jsonInts(shape), rows)
	req, err := oip.DecodeRequest([]byte(body), -1)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return req, nil
}

func jsonInts(v []int64) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
