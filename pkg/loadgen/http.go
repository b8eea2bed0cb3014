package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
)

// HTTPClient returns an HTTP client that keeps a connection per concurrent
// client open, as a load generator must.
func HTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = concurrency + 8
	t.MaxIdleConnsPerHost = concurrency + 8
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// InferRequest returns a Request that posts req, encoded once (JSON, or the
// binary tensor extension with binary outputs), to an OIP infer URL, and
// checks that each answer is a 200 OIP response.
func InferRequest(client *http.Client, baseURL, model, version string, req *oip.InferRequest, binary bool) (Request, error) {
	if binary {
		cp := *req
		cp.Parameters = oip.Parameters{oip.ParamBinaryDataOutput: true}
		req = &cp
	}
	body, headerLen := oip.EncodeRequest(req, binary)
	url := strings.TrimRight(baseURL, "/") + "/v2/models/" + model
	if version != "" {
		url += "/versions/" + version
	}
	url += "/infer"
	rows := rowsOf(req)
	post := func(ctx context.Context) (http.Header, []byte, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		r.Header.Set("Content-Type", oip.ContentTypeJSON)
		if headerLen >= 0 {
			r.Header.Set("Content-Type", oip.ContentTypeBinary)
			r.Header.Set(oip.HeaderContentLength, strconv.Itoa(headerLen))
		}
		resp, err := client.Do(r)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(answer))
		}
		return resp.Header, answer, err
	}
	// One checked request up front: the answer must decode as an OIP response.
	header, answer, err := post(context.Background())
	if err != nil {
		return nil, err
	}
	n, err := oip.ParseHeaderLength(header)
	if err != nil {
		return nil, err
	}
	if _, err := oip.DecodeResponse(answer, n); err != nil {
		return nil, fmt.Errorf("%s: the answer is not an OIP response: %w", url, err)
	}
	return func(ctx context.Context) (int, error) {
		_, _, err := post(ctx)
		if err != nil {
			return 0, err
		}
		return rows, nil
	}, nil
}

// rowsOf is the rows one request carries: the first dimension of its first input.
func rowsOf(req *oip.InferRequest) int {
	if len(req.Inputs) > 0 && len(req.Inputs[0].Shape) > 0 {
		return int(req.Inputs[0].Shape[0])
	}
	return 1
}
