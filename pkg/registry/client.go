package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrDigestMismatch is returned when downloaded bytes do not hash to the
// version's digest.
var ErrDigestMismatch = errors.New("digest mismatch")

// Client talks to a kiln-registry over its HTTP API.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client for the registry at baseURL
// (e.g. "http://127.0.0.1:8081"), sending token as a bearer token when set.
// httpClient may be nil for a default one.
func NewClient(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	hc := *httpClient
	hc.CheckRedirect = dropAuthOnRedirect
	return &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, hc: &hc}
}

// dropAuthOnRedirect keeps the registry token away from other servers, such
// as the storage a presigned download URL points at.
func dropAuthOnRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}

// ListModels returns one page of models.
func (c *Client) ListModels(ctx context.Context, p Page) (*ModelList, error) {
	var out ModelList
	return &out, c.getJSON(ctx, "/api/v1/models"+pageQuery(p), &out)
}

// GetModel returns a model with its latest version and aliases.
func (c *Client) GetModel(ctx context.Context, name string) (*Model, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out Model
	return &out, c.getJSON(ctx, modelPath(name), &out)
}

// ListVersions returns one page of a model's versions.
func (c *Client) ListVersions(ctx context.Context, name string, p Page) (*VersionList, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out VersionList
	return &out, c.getJSON(ctx, modelPath(name)+"/versions"+pageQuery(p), &out)
}

// Resolve returns the manifest of the version ref names.
func (c *Client) Resolve(ctx context.Context, ref Ref) (*Version, error) {
	if err := ValidateName(ref.Name); err != nil {
		return nil, err
	}
	var out Version
	return &out, c.getJSON(ctx, versionPath(ref), &out)
}

// Push creates a version of model name from the bytes read from model,
// whose sha256 must be req.Digest. profile, when not nil, is sent as the
// reference profile whose sha256 is req.ReferenceProfileDigest.
func (c *Client) Push(ctx context.Context, name string, req PushRequest, model, profile io.Reader) (*Version, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	meta, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writePushBody(mw, meta, model, profile))
	}()
	resp, err := c.do(ctx, http.MethodPost, modelPath(name)+"/versions", pr, mw.FormDataContentType(), nil)
	pr.CloseWithError(errors.New("request finished")) // unblocks the writer if the server answered early
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v Version
	return &v, decodeBody(resp, &v)
}

func writePushBody(mw *multipart.Writer, meta []byte, model, profile io.Reader) error {
	w, err := mw.CreateFormField(PartMeta)
	if err == nil {
		_, err = w.Write(meta)
	}
	if err == nil && profile != nil {
		if w, err = mw.CreateFormFile(PartReferenceProfile, "profile"); err == nil {
			_, err = io.Copy(w, profile)
		}
	}
	if err == nil {
		if w, err = mw.CreateFormFile(PartModel, "model.onnx"); err == nil {
			_, err = io.Copy(w, model)
		}
	}
	if err != nil {
		return err
	}
	return mw.Close()
}

// PushFile pushes the model file at path, computing its digest first.
func (c *Client) PushFile(ctx context.Context, name, path string, req PushRequest) (*Version, error) {
	digest, err := FileDigest(path)
	if err != nil {
		return nil, err
	}
	req.Digest = digest
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.Push(ctx, name, req, f, nil)
}

// FileDigest returns the "sha256:<hex>" digest of a file.
func FileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Download resolves ref and writes the version's model bytes to w,
// verifying their size and sha256; on a mismatch it returns an error
// wrapping ErrDigestMismatch (w then holds bytes that must not be used).
func (c *Client) Download(ctx context.Context, ref Ref, w io.Writer) (*Version, error) {
	v, err := c.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodGet, versionPath(v.Ref())+"/model", nil, "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), struct{ io.Reader }{resp.Body}, make([]byte, 1<<20))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("download %s: cut off after %d of %d bytes; retry", v.Ref(), n, v.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", v.Ref(), err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != v.Digest || n != v.Size {
		return nil, fmt.Errorf("download %s: %w: got %d bytes with %s, want %d bytes with %s", v.Ref(), ErrDigestMismatch, n, got, v.Size, v.Digest)
	}
	return v, nil
}

// DownloadFile writes the version's model to path: it downloads beside
// path and renames the file into place once its size and sha256 are
// verified, so that a failed or corrupt download never leaves a file there.
func (c *Client) DownloadFile(ctx context.Context, ref Ref, path string) (*Version, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".download-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	v, err := c.Download(ctx, ref, tmp)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// UpdateVersion adds or replaces metrics and tags of version n.
func (c *Client) UpdateVersion(ctx context.Context, name string, n int, u VersionUpdate) (*Version, error) {
	var out Version
	return &out, c.sendJSON(ctx, http.MethodPatch, versionPath(Ref{Name: name, Version: n}), u, &out)
}

// DeleteVersion deletes version n (refused while an alias points at it).
func (c *Client) DeleteVersion(ctx context.Context, name string, n int) error {
	return c.sendJSON(ctx, http.MethodDelete, versionPath(Ref{Name: name, Version: n}), nil, nil)
}

// ListAliases returns the aliases of a model.
func (c *Client) ListAliases(ctx context.Context, name string) ([]Alias, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out AliasList
	return out.Aliases, c.getJSON(ctx, modelPath(name)+"/aliases", &out)
}

// GetAlias returns an alias.
func (c *Client) GetAlias(ctx context.Context, name, alias string) (*Alias, error) {
	a, _, _, err := c.AliasIfChanged(ctx, name, alias, "")
	return a, err
}

// AliasIfChanged polls an alias: with the ETag of the last answer it
// returns changed false (and no alias) while the alias has not moved.
func (c *Client) AliasIfChanged(ctx context.Context, name, alias, etag string) (a *Alias, newETag string, changed bool, err error) {
	return c.WatchAlias(ctx, name, alias, etag, 0)
}

// WatchAlias is AliasIfChanged that, with wait > 0, lets the registry hold
// the request until the alias moves or wait ends (a long poll); a registry
// that does not know the wait parameter answers at once.
func (c *Client) WatchAlias(ctx context.Context, name, alias, etag string, wait time.Duration) (a *Alias, newETag string, changed bool, err error) {
	if err := ValidateName(name); err != nil {
		return nil, "", false, err
	}
	if err := ValidateAlias(alias); err != nil {
		return nil, "", false, err
	}
	hdr := http.Header{}
	if etag != "" {
		hdr.Set("If-None-Match", etag)
	}
	path := aliasPath(name, alias)
	if wait > 0 {
		path += "?wait=" + wait.String()
	}
	resp, err := c.do(ctx, http.MethodGet, path, nil, "", hdr)
	if err != nil {
		return nil, "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, etag, false, nil
	}
	var out Alias
	if err := decodeBody(resp, &out); err != nil {
		return nil, "", false, err
	}
	return &out, resp.Header.Get("ETag"), true, nil
}

// SetAlias points alias at version; with expect set, only while the alias
// is at *expect (0: absent), else it fails with ErrConflict.
func (c *Client) SetAlias(ctx context.Context, name, alias string, version int, expect *int) (*Alias, error) {
	if err := ValidateAlias(alias); err != nil {
		return nil, err
	}
	return c.MoveAlias(ctx, name, alias, SetAliasRequest{Version: version, Expect: expect})
}

// DeleteAlias removes alias, under the same expect rule as SetAlias.
func (c *Client) DeleteAlias(ctx context.Context, name, alias string, expect *int) error {
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	path := aliasPath(name, alias)
	if expect != nil {
		path += "?expect=" + strconv.Itoa(*expect)
	}
	return c.sendJSON(ctx, http.MethodDelete, path, nil, nil)
}

// ListEvents returns one page of a model's audit log.
func (c *Client) ListEvents(ctx context.Context, name string, p Page) (*EventList, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var out EventList
	return &out, c.getJSON(ctx, modelPath(name)+"/events"+pageQuery(p), &out)
}

func modelPath(name string) string { return "/api/v1/models/" + url.PathEscape(name) }

func versionPath(r Ref) string {
	return modelPath(r.Name) + "/versions/" + url.PathEscape(r.Selector())
}

func aliasPath(name, alias string) string {
	return modelPath(name) + "/aliases/" + url.PathEscape(alias)
}

func pageQuery(p Page) string {
	q := url.Values{}
	if p.Token != "" {
		q.Set("page_token", p.Token)
	}
	if p.Size > 0 {
		q.Set("page_size", strconv.Itoa(p.Size))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	return c.sendJSON(ctx, http.MethodGet, path, nil, out)
}

// sendJSON sends in (unless nil) as JSON and decodes the answer into out (unless nil).
func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	resp, err := c.do(ctx, method, path, body, contentType, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return decodeBody(resp, out)
}

// do sends a request and turns a non-2xx, non-304 answer into an *APIError.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("registry request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", c.base, err)
	}
	if resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e ErrorBody
	if json.Unmarshal(data, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(data))
	}
	return nil, &APIError{Status: resp.StatusCode, Message: e.Error, Report: e.Report}
}

func decodeBody(resp *http.Response, out any) error {
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode registry answer: %w", err)
	}
	return nil
}
