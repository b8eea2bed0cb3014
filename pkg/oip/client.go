package oip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to an OIP v2 HTTP server such as kiln-serve or Triton.
type Client struct {
	// BaseURL is the server's root, for example http://127.0.0.1:8000.
	BaseURL string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// NewClient returns a client for the server at baseURL.
func NewClient(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: http.DefaultClient}
}

// Infer runs an inference on model (version "" for the server's default).
// With binary set, input data travels in the binary extension and, unless
// req says otherwise, outputs are asked for in binary form too; req itself
// is not changed.
func (c *Client) Infer(ctx context.Context, model, version string, req *InferRequest, binary bool) (*InferResponse, error) {
	if binary {
		if _, set := req.Parameters[ParamBinaryDataOutput]; !set {
			cp := *req
			cp.Parameters = make(Parameters, len(req.Parameters)+1)
			for k, v := range req.Parameters {
				cp.Parameters[k] = v
			}
			cp.Parameters[ParamBinaryDataOutput] = true
			req = &cp
		}
	}
	body, headerLen := EncodeRequest(req, binary)
	h := http.Header{}
	if headerLen >= 0 {
		h.Set("Content-Type", ContentTypeBinary)
		h.Set(HeaderContentLength, strconv.Itoa(headerLen))
	} else {
		h.Set("Content-Type", ContentTypeJSON)
	}
	respBody, respHeader, err := c.do(ctx, http.MethodPost, modelPath(model, version)+"/infer", h, body)
	if err != nil {
		return nil, err
	}
	n, err := ParseHeaderLength(respHeader)
	if err != nil {
		return nil, err
	}
	return DecodeResponse(respBody, n)
}

// ModelMetadata returns the metadata of model (version "" for the default).
func (c *Client) ModelMetadata(ctx context.Context, model, version string) (*ModelMetadata, error) {
	var m ModelMetadata
	if err := c.getJSON(ctx, modelPath(model, version), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ServerMetadata returns the server's name, version and extensions.
func (c *Client) ServerMetadata(ctx context.Context) (*ServerMetadata, error) {
	var m ServerMetadata
	if err := c.getJSON(ctx, "/v2", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Live reports whether the server is live. A non-2xx answer means no (false
// and a nil error); only a failed exchange is an error.
func (c *Client) Live(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/live", "live")
}

// Ready reports whether the server is ready for inference, like Live.
func (c *Client) Ready(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/ready", "ready")
}

// ModelReady reports whether model (version "" for the default) is ready,
// like Live.
func (c *Client) ModelReady(ctx context.Context, model, version string) (bool, error) {
	return c.health(ctx, modelPath(model, version)+"/ready", "ready")
}

// health asks a health endpoint: a 2xx status means yes unless the body
// says {field: false}, any other status means no. Only a failed exchange is
// an error.
func (c *Client) health(ctx context.Context, path, field string) (bool, error) {
	body, _, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			return false, nil
		}
		return false, err
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if v, ok := m[field].(bool); ok {
			return v, nil
		}
	}
	return true, nil
}

func (c *Client) getJSON(ctx context.Context, path string, dst any) error {
	body, _, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return invalidf("GET %s: %v", path, err)
	}
	return nil
}

// do sends one request and returns the body of a 2xx answer; other answers
// become *HTTPError.
func (c *Client) do(ctx context.Context, method, path string, h http.Header, body []byte) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e ErrorResponse
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return nil, nil, &HTTPError{Status: resp.StatusCode, Message: msg}
	}
	return data, resp.Header, nil
}

// modelPath is /v2/models/{model}[/versions/{version}].
func modelPath(model, version string) string {
	p := "/v2/models/" + url.PathEscape(model)
	if version != "" {
		p += "/versions/" + url.PathEscape(version)
	}
	return p
}
