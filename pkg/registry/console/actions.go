package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
)

// moveData is the confirmation and refusal pages' data.
type moveData struct {
	Model   string
	Alias   string
	From    int
	Version *registry.Version
	Force   bool
	// Refused is the gate refusal (refused page only).
	Refused *registry.GateError
}

// moveAlias moves an alias in two steps: the first post shows what will
// change and asks to confirm; the confirmed post moves it, expecting the
// alias still where the confirmation saw it. A move the gates refuse
// shows the report, with a form to force it for admins.
func (c *console) moveAlias(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, alias := r.PathValue("name"), r.PathValue("alias")
	if alias == "" {
		alias = r.PostFormValue("alias") // the form that sets a new alias
	}
	if err := registry.ValidateName(name); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := registry.ValidateAlias(alias); err != nil {
		c.fail(w, r, err)
		return
	}
	n, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || n < 1 {
		c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "version " + strconv.Quote(r.PostFormValue("version")) + ": want a version number"})
		return
	}
	force := r.PostFormValue("force") == "yes"
	id, _ := c.identity(r)
	if force && id.Role < auth.RoleAdmin {
		c.fail(w, r, &pageError{status: http.StatusForbidden, msg: "forcing a move past failed gates needs an admin token; token " + id.Name + " has role " + id.Role.String()})
		return
	}
	v, err := c.svc.Resolve(ctx, registry.Ref{Name: name, Version: n})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		from := 0
		cur, _, err := c.svc.GetAlias(ctx, name, alias)
		switch {
		case err == nil:
			from = cur.Version
		case !errors.Is(err, registry.ErrNotFound):
			c.fail(w, r, err)
			return
		}
		c.render(w, r, http.StatusOK, "confirm", "Move "+name+"@"+alias+"?", "models", moveData{Model: name, Alias: alias, From: from, Version: v, Force: force})
		return
	}
	req := registry.SetAliasRequest{Version: n, Force: force}
	if s := r.PostFormValue("expect"); s != "" {
		expect, err := strconv.Atoi(s)
		if err != nil || expect < 0 {
			c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "expect: want a version number (0: none)"})
			return
		}
		req.Expect = &expect
	}
	_, err = c.svc.MoveAlias(ctx, name, alias, req, id.Name)
	if refused, ok := isGateError(err); ok {
		c.render(w, r, http.StatusConflict, "refused", "Move refused", "models", moveData{Model: name, Alias: alias, From: refused.From, Version: v, Refused: refused})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/models/"+url.PathEscape(name)+"?moved="+url.QueryEscape(alias)+"#aliases", http.StatusSeeOther)
}

// updateVersion adds or replaces a version's tags and sets its description.
func (c *console) updateVersion(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "version " + strconv.Quote(r.PathValue("n")) + ": want a version number"})
		return
	}
	tags, err := parseTags(r.PostFormValue("tags"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	desc := r.PostFormValue("description")
	id, _ := c.identity(r)
	if _, err := c.svc.UpdateVersion(r.Context(), name, n, registry.VersionUpdate{Tags: tags, Description: &desc}, id.Name); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/models/"+url.PathEscape(name)+"/versions/"+strconv.Itoa(n)+"?saved=1", http.StatusSeeOther)
}
