package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/console"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/kilnml/kiln/pkg/validate"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// syncBuffer collects log lines from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// site is a real registry (API and console) on loopback over a folder store.
type site struct {
	URL    string
	Svc    *storage.Service
	Nodes  *server.Nodes
	Tokens map[string]string // role name -> token
	Logs   *syncBuffer
}

// newSite starts a registry; with auth, it accepts one token per role.
func newSite(t testing.TB, withAuth bool) *site {
	t.Helper()
	store, err := storage.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Logs: &syncBuffer{}, Tokens: map[string]string{}, Nodes: server.NewNodes(0)}
	logger := slog.New(slog.NewJSONHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Svc = storage.NewService(store, storage.Options{Logger: logger})
	var tokens *auth.Tokens
	if withAuth {
		var lines strings.Builder
		for _, role := range []string{"reader", "writer", "admin"} {
			s.Tokens[role] = auth.NewToken()
			fmt.Fprintf(&lines, "%s %s %s-user\n", auth.HashToken(s.Tokens[role]), role, role)
		}
		if tokens, err = auth.ParseTokens(strings.NewReader(lines.String())); err != nil {
			t.Fatal(err)
		}
	}
	web, err := console.New(console.Options{Service: s.Svc, Tokens: tokens, Nodes: s.Nodes, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewHandler(s.Svc, server.Options{Tokens: tokens, Nodes: s.Nodes, Console: web, Logger: logger}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// push stores a small model as a new version of name with the given metrics.
func (s *site) push(t testing.TB, name string, metrics map[string]float64) *registry.Version {
	t.Helper()
	data, err := testenv.AdderModel(t, 1).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Svc.Push(context.Background(), name, registry.PushRequest{Digest: registry.Digest(data), Metrics: metrics}, bytes.NewReader(data), "ci")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// guarded pushes iris with version 1 (accuracy 0.98) at production, a
// policy requiring accuracy 0.9, and version 2 (accuracy 0.5).
func (s *site) guarded(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	s.push(t, "iris", map[string]float64{"accuracy": 0.98})
	policy, err := validate.ParsePolicy([]byte("metrics: {accuracy: {min: 0.9}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.SetPolicy(ctx, "iris", policy, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.SetAlias(ctx, "iris", "production", 1, nil, "ci"); err != nil {
		t.Fatal(err)
	}
	s.push(t, "iris", map[string]float64{"accuracy": 0.5})
	if _, err := s.Svc.MoveAlias(ctx, "iris", "production", registry.SetAliasRequest{Version: 2}, "ci"); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("moving production to version 2: %v, want refused", err)
	}
}

// visitor is a browser without JavaScript: cookies, redirects, forms.
type visitor struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
	// pages holds every body it received.
	pages []string
}

func (s *site) visitor(t testing.TB) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: s.URL, hc: &http.Client{Jar: jar}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (v *visitor) do(req *http.Request) (int, string) {
	v.t.Helper()
	resp, err := v.hc.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	v.pages = append(v.pages, string(body))
	if m := csrfInput.FindStringSubmatch(string(body)); m != nil {
		v.csrf = m[1]
	}
	return resp.StatusCode, string(body)
}

func (v *visitor) get(path string) (int, string) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.base+path, nil)
	return v.do(req)
}

// post sends a form with the CSRF value of the last page, unless form sets one.
func (v *visitor) post(path string, form url.Values) (int, string) {
	v.t.Helper()
	form = maps.Clone(form)
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", v.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

// signIn signs in with the token of role.
func (v *visitor) signIn(token string) {
	v.t.Helper()
	v.get("/sign-in")
	if code, body := v.post("/sign-in", url.Values{"token": {token}, "next": {"/"}}); code != 200 || !strings.Contains(body, "<h1>Models</h1>") {
		v.t.Fatalf("sign-in: %d\n%s", code, body)
	}
}

// TestSignInAndPages signs in, opens every page, and checks what each shows.
func TestSignInAndPages(t *testing.T) {
	s := newSite(t, true)
	s.guarded(t)
	s.Nodes.Report("edge-1", registry.Heartbeat{Address: "http://127.0.0.1:1", Ready: true, Interval: 5,
		Models: []registry.NodeModel{{Model: "iris", Ref: "iris@production", Version: 1, RequestRate: 3}}}, "node")
	v := s.visitor(t)
	if code, body := v.get("/models/iris"); code != 200 || !strings.Contains(body, `id="sign-in"`) {
		t.Fatalf("a visitor who is not signed in: %d, want the sign-in page", code)
	}
	if code, body := v.post("/sign-in", url.Values{"token": {"kiln_wrong"}, "next": {"/models/iris"}}); code != 401 || !strings.Contains(body, "unknown token") {
		t.Errorf("a wrong token: %d", code)
	}
	if code, body := v.post("/sign-in", url.Values{"token": {s.Tokens["reader"]}, "next": {"/models/iris"}}); code != 200 || !strings.Contains(body, "<h1>iris</h1>") {
		t.Fatalf("sign-in goes on to the page asked for: %d\n%s", code, body)
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"iris", "production → <a", "edge-1: v1", "no data"}},
		{"/models/iris", []string{"version 1", "refused", "FAILED", "accuracy", "min: 0.9", "edge-1", "push"}},
		{"/models/iris/versions/2", []string{"iris</a> version 2", "tensor(float)", "FP32", "0.5", "FAILED", "move of production by ci, refused", "no reference profile"}},
		{"/nodes", []string{"edge-1", "ready", "iris@production", "3.0/s"}},
		{"/drift", []string{"iris", "no reference profile"}},
		{"/models/iris/try", []string{"edge-1 (version 1)", `"name": "x"`}},
	} {
		code, body := v.get(tc.path)
		body = html.UnescapeString(body)
		if code != 200 {
			t.Errorf("%s: %d", tc.path, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		if strings.Contains(body, "Move…") {
			t.Errorf("%s offers a reader the move form", tc.path)
		}
	}
	for _, path := range []string{"/models/nope", "/models/iris/versions/9", "/models/BAD", "/models/iris/versions/x", "/drift?model=BAD", "/nowhere"} {
		code, body := v.get(path)
		if code/100 != 4 || !strings.Contains(body, `class="alert"`) {
			t.Errorf("%s: %d, want a 4xx page saying why", path, code)
		}
	}
	if code, _ := v.post("/sign-out", url.Values{}); code != 200 {
		t.Errorf("sign out: %d", code)
	}
	if _, body := v.get("/"); !strings.Contains(body, `id="sign-in"`) {
		t.Error("still signed in after signing out")
	}
}

// TestReaderCannotMoveAliases: a reader's move is refused with 403 and the
// alias stays; a writer's move of a failing version is refused by the
// gates (409, with the report); only an admin may force it.
func TestReaderCannotMoveAliases(t *testing.T) {
	s := newSite(t, true)
	s.guarded(t)
	alias := func() int {
		a, _, err := s.Svc.GetAlias(context.Background(), "iris", "production")
		if err != nil {
			t.Fatal(err)
		}
		return a.Version
	}
	move := url.Values{"version": {"2"}, "confirm": {"yes"}, "expect": {"1"}}

	reader := s.visitor(t)
	reader.signIn(s.Tokens["reader"])
	reader.get("/models/iris")
	if code, body := reader.post("/models/iris/aliases/production", move); code != 403 || !strings.Contains(body, "has role reader; this needs writer") {
		t.Errorf("reader's move: %d", code)
	}
	if code, _ := reader.post("/models/iris/versions/1", url.Values{"tags": {"a=b"}}); code != 403 {
		t.Errorf("reader's tag edit: %d", code)
	}

	writer := s.visitor(t)
	writer.signIn(s.Tokens["writer"])
	writer.get("/models/iris")
	code, body := writer.post("/models/iris/aliases/production", url.Values{"version": {"2"}})
	if code != 200 || !strings.Contains(body, "Move iris@production?") || !strings.Contains(body, `name="expect" value="1"`) {
		t.Fatalf("the first post asks to confirm: %d\n%s", code, body)
	}
	code, body = writer.post("/models/iris/aliases/production", move)
	if code != 409 || !strings.Contains(body, "metric:accuracy") || !strings.Contains(body, "FAILED") || strings.Contains(body, `id="force"`) {
		t.Errorf("writer's move of a failing version: %d, want 409 with the report and no force form", code)
	}
	if code, _ := writer.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "force": {"yes"}, "confirm": {"yes"}}); code != 403 {
		t.Errorf("writer's forced move: %d", code)
	}
	if got := alias(); got != 1 {
		t.Fatalf("production at %d after refused moves", got)
	}

	admin := s.visitor(t)
	admin.signIn(s.Tokens["admin"])
	admin.get("/models/iris")
	if code, body := admin.post("/models/iris/aliases/production", move); code != 409 || !strings.Contains(body, `id="force"`) {
		t.Fatalf("admin's unforced move: %d, want 409 with a force form", code)
	}
	if code, body := admin.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "force": {"yes"}}); code != 200 || !strings.Contains(body, "Force the move") {
		t.Fatalf("force asks to confirm: %d", code)
	}
	code, body = admin.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "force": {"yes"}, "confirm": {"yes"}, "expect": {"1"}})
	if code != 200 || !strings.Contains(body, "production now points at version 2") || !strings.Contains(body, "forced") {
		t.Errorf("forced move: %d\n%s", code, body)
	}
	if got := alias(); got != 2 {
		t.Errorf("production at %d after the forced move", got)
	}
	// A confirmation that went stale (someone moved the alias meanwhile) changes nothing.
	if code, body := writer.post("/models/iris/aliases/production", url.Values{"version": {"1"}, "confirm": {"yes"}, "expect": {"1"}}); code != 409 || !strings.Contains(body, "not the expected 1") {
		t.Errorf("stale confirmation: %d", code)
	}
	code, body = writer.post("/models/iris/versions/1", url.Values{"tags": {"team=fraud\nstage = canary"}, "description": {"first cut"}})
	if code != 200 || !strings.Contains(body, "first cut") || !strings.Contains(body, "canary") {
		t.Errorf("tags and description: %d", code)
	}
	if code, _ := writer.post("/models/iris/versions/1", url.Values{"tags": {"no equals sign"}}); code != 400 {
		t.Errorf("bad tags: %d", code)
	}
}

// TestFormsNeedCSRFToken: a post without the form's CSRF value, with a
// wrong one, with another site's Origin, or with one taken from another
// session is refused with 403 and changes nothing.
func TestFormsNeedCSRFToken(t *testing.T) {
	for _, auth := range []bool{true, false} {
		t.Run(fmt.Sprintf("auth=%v", auth), func(t *testing.T) {
			s := newSite(t, auth)
			s.push(t, "iris", nil)
			v := s.visitor(t)
			if auth {
				v.signIn(s.Tokens["admin"])
			}
			v.get("/models/iris")
			good := v.csrf
			setAlias := url.Values{"alias": {"staging"}, "version": {"1"}, "confirm": {"yes"}}
			for name, form := range map[string]url.Values{
				"no token":    {"alias": {"staging"}, "version": {"1"}, "confirm": {"yes"}, "csrf": nil},
				"wrong token": {"alias": {"staging"}, "version": {"1"}, "confirm": {"yes"}, "csrf": {"x" + good}},
			} {
				if code, body := v.post("/models/iris/aliases", form); code != 403 || !strings.Contains(body, "CSRF") {
					t.Errorf("%s: %d", name, code)
				}
			}
			other := s.visitor(t)
			if auth {
				other.signIn(s.Tokens["writer"])
			}
			other.get("/")
			stolen := url.Values{"alias": {"staging"}, "version": {"1"}, "confirm": {"yes"}, "csrf": {other.csrf}}
			if code, _ := v.post("/models/iris/aliases", stolen); code != 403 {
				t.Errorf("another session's token: %d", code)
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/models/iris/aliases", strings.NewReader(url.Values{"alias": {"staging"}, "version": {"1"}, "confirm": {"yes"}, "csrf": {good}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			if code, _ := v.do(req); code != 403 {
				t.Errorf("another origin: %d", code)
			}
			if _, _, err := s.Svc.GetAlias(context.Background(), "iris", "staging"); err == nil {
				t.Fatal("a refused form set the alias")
			}
			if code, body := v.post("/models/iris/aliases", setAlias); code != 200 || !strings.Contains(body, "staging now points at version 1") {
				t.Errorf("the form with its token: %d", code)
			}
		})
	}
	s := newSite(t, true)
	v := s.visitor(t)
	if code, _ := v.post("/sign-in", url.Values{"token": {s.Tokens["admin"]}}); code != 403 {
		t.Errorf("sign-in without the form's CSRF value: %d", code)
	}
}

// TestTokenNeverShown signs in as admin, uses every page and action, and
// checks that the token appears in no page and no log line; the cookie
// that holds it is HttpOnly, SameSite=Strict and Secure over TLS.
func TestTokenNeverShown(t *testing.T) {
	s := newSite(t, true)
	s.guarded(t)
	token := s.Tokens["admin"]
	v := s.visitor(t)
	v.signIn(token)
	for _, path := range []string{"/", "/models/iris", "/models/iris/versions/1", "/models/iris/versions/2", "/nodes", "/drift", "/models/iris/try", "/sign-in", "/nowhere"} {
		v.get(path)
	}
	v.get("/models/iris")
	v.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "confirm": {"yes"}})
	v.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "confirm": {"yes"}, "force": {"yes"}})
	v.post("/models/iris/versions/1", url.Values{"tags": {"a=b"}, "description": {"d"}})
	v.post("/models/iris/try", url.Values{"node": {"none"}, "body": {"{}"}})
	v.post("/sign-in", url.Values{"token": {token + "x"}})
	encoded := base64.RawURLEncoding.EncodeToString([]byte(token))
	for i, p := range v.pages {
		if strings.Contains(p, token) || strings.Contains(p, encoded) || strings.Contains(p, token[5:25]) {
			t.Errorf("page %d shows the token:\n%s", i, p)
		}
	}
	logs := s.Logs.String()
	if !strings.Contains(logs, "admin-user") {
		t.Errorf("the log does not name the signed-in user:\n%s", logs)
	}
	if strings.Contains(logs, token[5:25]) || strings.Contains(logs, encoded) {
		t.Errorf("the log shows the token:\n%s", logs)
	}

	// The cookie's attributes, over plain HTTP and over TLS.
	check := func(base string, hc *http.Client, secure bool) {
		page, err := hc.Get(base + "/sign-in")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		csrf := csrfInput.FindStringSubmatch(string(body))
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		req, _ := http.NewRequest(http.MethodPost, base+"/sign-in", strings.NewReader(url.Values{"token": {token}, "csrf": {csrf[1]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range page.Cookies() {
			req.AddCookie(c)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "kiln_token" {
				found = true
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || c.Path != "/" {
					t.Errorf("token cookie %+v: want HttpOnly, SameSite=Strict, Secure=%v", c, secure)
				}
			}
		}
		if resp.StatusCode != http.StatusSeeOther || !found {
			t.Errorf("sign-in answered %d without the token cookie", resp.StatusCode)
		}
	}
	check(s.URL, &http.Client{}, false)
	web, err := console.New(console.Options{Service: s.Svc, Tokens: mustTokens(t, token), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewTLSServer(web)
	defer tlsSrv.Close()
	check(tlsSrv.URL, tlsSrv.Client(), true)
}

func mustTokens(t *testing.T, token string) *auth.Tokens {
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte(auth.HashToken(token)+" admin a\n"), 0o600)
	tokens, err := auth.LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// TestOpenConsole: with --auth=none every page and action is open.
func TestOpenConsole(t *testing.T) {
	s := newSite(t, false)
	s.guarded(t)
	v := s.visitor(t)
	if code, body := v.get("/models/iris"); code != 200 || !strings.Contains(body, "open console") || !strings.Contains(body, "Move…") {
		t.Fatalf("open console: %d", code)
	}
	code, body := v.post("/models/iris/aliases/production", url.Values{"version": {"2"}, "confirm": {"yes"}, "force": {"yes"}})
	if code != 200 || !strings.Contains(body, "production now points at version 2") {
		t.Errorf("forced move on an open console: %d", code)
	}
	if code, _ := v.get("/api/v1/models/iris"); code != 200 {
		t.Errorf("the API beside the console: %d", code)
	}
	if code, _ := v.get("/api/v1/nowhere"); code != 404 {
		t.Errorf("an unknown API path: %d", code)
	}
	if code, body := v.get("/static/console.css"); code != 200 || !strings.Contains(body, ".badge.ok") {
		t.Errorf("stylesheet: %d", code)
	}
}

// TestVersionsPaged: a model page lists its newest 100 versions, newest
// first, with a link to the older ones.
func TestVersionsPaged(t *testing.T) {
	s := newSite(t, false)
	for range 103 {
		s.push(t, "many", nil)
	}
	v := s.visitor(t)
	row := regexp.MustCompile(`<tr><td><a href="/models/many/versions/(\d+)">`)
	versions := func(body string) []string {
		var out []string
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, body := v.get("/models/many")
	if got := versions(body); len(got) != 100 || got[0] != "103" || got[99] != "4" || !strings.Contains(body, "?before=4#") {
		t.Fatalf("first page: %d versions %v...", len(got), got[:min(len(got), 3)])
	}
	_, body = v.get("/models/many?before=4")
	if got := versions(body); strings.Join(got, ",") != "3,2,1" || !strings.Contains(body, "← newer") {
		t.Errorf("older page: %v", got)
	}
	if code, _ := v.get("/models/many?before=x"); code != 400 {
		t.Errorf("bad before: %d", code)
	}
}
