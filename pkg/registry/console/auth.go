package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/registry/auth"
)

// Cookies of the console. The token cookie holds the signed-in token
// (base64url-encoded); the CSRF cookie holds a random value for visitors
// who are not signed in (the sign-in form, and every form of an open
// console).
const (
	tokenCookie  = "kiln_token"
	csrfCookie   = "kiln_csrf"
	csrfField    = "csrf"
	sessionHours = 12
)

// maxFormBytes bounds a form post (a try-it request can be large).
const maxFormBytes = 4 << 20

// identity returns who is viewing: anonymous with every right on an open
// console, else the signed-in token's identity; signedIn is false when
// the viewer must sign in.
func (c *console) identity(r *http.Request) (id auth.Identity, signedIn bool) {
	if c.tokens == nil {
		return auth.Identity{Name: "anonymous", Role: auth.RoleAdmin}, true
	}
	token, ok := sessionToken(r)
	if !ok {
		return auth.Identity{}, false
	}
	return c.tokens.Lookup(token)
}

// sessionToken reads the token cookie.
func sessionToken(r *http.Request) (string, bool) {
	ck, err := r.Cookie(tokenCookie)
	if err != nil {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(raw) == 0 {
		return "", false
	}
	return string(raw), true
}

// csrfToken returns the value the page's forms carry: derived from the
// signed-in token (a cross-site page cannot compute it, and it never
// reveals the token), else the visitor's random CSRF cookie, which it sets
// on w when missing.
func (c *console) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if v := c.expectedCSRF(r); v != "" {
		return v
	}
	var b [24]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteStrictMode})
	return v
}

// expectedCSRF is the CSRF value a form post must carry ("" when none
// can be expected: a visitor without the cookie).
func (c *console) expectedCSRF(r *http.Request) string {
	if token, ok := sessionToken(r); ok && c.tokens != nil {
		if _, known := c.tokens.Lookup(token); known {
			sum := sha256.Sum256([]byte("kiln-console-csrf\x00" + token))
			return base64.RawURLEncoding.EncodeToString(sum[:18])
		}
	}
	if ck, err := r.Cookie(csrfCookie); err == nil {
		return ck.Value
	}
	return ""
}

// isTLS reports whether the browser reached the registry over TLS
// (directly, or through a proxy that says so).
func isTLS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// checkPost refuses a form post from another origin or without the CSRF value.
func (c *console) checkPost(r *http.Request) error {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return &pageError{status: http.StatusForbidden, msg: "the form was sent from another site (" + origin + "); use the console's own pages"}
		}
	}
	want := c.expectedCSRF(r)
	got := r.PostFormValue(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &pageError{status: http.StatusForbidden, msg: "the form's CSRF token is missing or out of date: reload the page and send the form again"}
	}
	return nil
}

// reader lets a viewer through who may read, sending others to sign in.
func (c *console) reader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.identity(r); !ok {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// action runs a form post of a viewer with at least role, after checking
// its CSRF value.
func (c *console) action(role auth.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "the form could not be read: " + err.Error()})
			return
		}
		if err := c.checkPost(r); err != nil {
			c.fail(w, r, err)
			return
		}
		id, ok := c.identity(r)
		if !ok {
			c.fail(w, r, &pageError{status: http.StatusUnauthorized, msg: "sign in first: your session ended or the token is no longer accepted"})
			return
		}
		if id.Role < role {
			c.fail(w, r, &pageError{status: http.StatusForbidden, msg: fmt.Sprintf("token %s has role %s; this needs %s", id.Name, id.Role, role)})
			return
		}
		h(w, r)
	}
}

func (c *console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", "Sign in", "", signInData{Next: localPath(r.URL.Query().Get("next"))})
}

// signInData is the sign-in page's data.
type signInData struct {
	Next  string
	Error string
}

// signIn checks the token and keeps it in an HttpOnly, SameSite=Strict
// cookie (Secure over TLS).
func (c *console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "the form could not be read"})
		return
	}
	if err := c.checkPost(r); err != nil {
		c.fail(w, r, err)
		return
	}
	next := localPath(r.PostFormValue("next"))
	if c.tokens == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	id, ok := c.tokens.Lookup(token)
	if token == "" || !ok {
		c.render(w, r, http.StatusUnauthorized, "signin", "Sign in", "", signInData{Next: next, Error: "unknown token: paste a token from kiln-registry token NAME ROLE"})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: tokenCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(token)), Path: "/",
		MaxAge: sessionHours * int(time.Hour/time.Second), HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteStrictMode,
	})
	c.log.Info("console sign-in", "name", id.Name, "role", id.Role.String())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *console) signOut(w http.ResponseWriter, r *http.Request) {
	if err := c.checkPost(r); err != nil {
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: isTLS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
}

// localPath keeps a redirect target on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
