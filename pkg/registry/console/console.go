// Package console is kiln-registry's web console: models, versions,
// aliases and their gate reports, the fleet of serving nodes, drift, and a
// form to try a model, rendered on the server as plain HTML (it works with
// JavaScript off) with charts as inline SVG. Writers move aliases and set
// tags and descriptions from it; admins force moves past failed gates.
package console

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configure the console.
type Options struct {
	// Service is the registry the console shows and changes.
	Service *storage.Service
	// Tokens authenticates sign-ins; nil leaves the console open, as the
	// API is with --auth=none.
	Tokens *auth.Tokens
	// Nodes holds the heartbeats of the serving nodes.
	Nodes *server.Nodes
	// Client sends try-it predictions to nodes (default: one with a 10s timeout).
	Client *http.Client
	// Logger receives one line per failed page or action (default slog.Default()).
	Logger *slog.Logger
}

// console serves the pages.
type console struct {
	svc    *storage.Service
	tokens *auth.Tokens
	nodes  *server.Nodes
	client *http.Client
	log    *slog.Logger
	pages  map[string]*template.Template
}

// New returns the console's handler, to be served at /.
func New(opts Options) (http.Handler, error) {
	if opts.Nodes == nil {
		opts.Nodes = server.NewNodes(0)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &console{svc: opts.Service, tokens: opts.Tokens, nodes: opts.Nodes, client: opts.Client, log: opts.Logger, pages: map[string]*template.Template{}}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	for _, page := range []string{"models", "model", "version", "nodes", "drift", "try", "confirm", "refused", "signin", "error"} {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFiles, "templates/"+page+".html")
		}
		if err != nil {
			return nil, err
		}
		c.pages[page] = t
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("GET /sign-in", c.signInPage)
	mux.HandleFunc("POST /sign-in", c.signIn)
	mux.HandleFunc("POST /sign-out", c.signOut)
	mux.HandleFunc("GET /{$}", c.reader(c.modelsPage))
	mux.HandleFunc("GET /models/{name}", c.reader(c.modelPage))
	mux.HandleFunc("GET /models/{name}/versions/{n}", c.reader(c.versionPage))
	mux.HandleFunc("POST /models/{name}/versions/{n}", c.action(auth.RoleWriter, c.updateVersion))
	mux.HandleFunc("POST /models/{name}/aliases", c.action(auth.RoleWriter, c.moveAlias))
	mux.HandleFunc("POST /models/{name}/aliases/{alias}", c.action(auth.RoleWriter, c.moveAlias))
	mux.HandleFunc("GET /models/{name}/try", c.reader(c.tryPage))
	mux.HandleFunc("POST /models/{name}/try", c.action(auth.RoleReader, c.try))
	mux.HandleFunc("GET /nodes", c.reader(c.nodesPage))
	mux.HandleFunc("GET /drift", c.reader(c.driftPage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, &pageError{status: http.StatusNotFound, msg: "no such page: " + r.URL.Path})
	})
	return securityHeaders(mux), nil
}

// cacheFor lets browsers keep the embedded assets for an hour.
func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the pages out of frames and off other origins'
// scripts: the console needs no script at all.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets: the layout's parts and the page's own data.
type page struct {
	Title string
	// Nav names the section the page belongs to: models, nodes or drift.
	Nav  string
	Who  auth.Identity
	Open bool
	// SignedIn is false on the sign-in page of a console with tokens.
	SignedIn bool
	CSRF     string
	Data     any
}

// CanWrite reports whether the viewer may move aliases and edit versions.
func (p page) CanWrite() bool { return p.Who.Role >= auth.RoleWriter }

// CanForce reports whether the viewer may force a move past failed gates.
func (p page) CanForce() bool { return p.Who.Role >= auth.RoleAdmin }

// render writes a page with the given status.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	p := page{Title: title, Nav: nav, Open: c.tokens == nil, CSRF: c.csrfToken(w, r), Data: data}
	p.Who, p.SignedIn = c.identity(r)
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console page failed to render", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "the page failed to render; see the registry's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageError is a failure with the status and message a page shows.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

// fail renders the error page for err, with the status of its sentinel.
func (c *console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := registry.StatusOf(err)
	var pe *pageError
	if errors.As(err, &pe) {
		status = pe.status
	}
	if status >= 500 {
		c.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", http.StatusText(status), "", err.Error())
}
