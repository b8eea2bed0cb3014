package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
)

func (a *api) listAliases(c *gin.Context) {
	aliases, err := a.svc.ListAliases(c.Request.Context(), c.Param("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, registry.AliasList{Aliases: aliases})
}

// getAlias answers with the alias and its ETag; with a matching
// If-None-Match it answers 304, which makes polling for moves cheap. With
// ?wait=30s (and the ETag in ?etag= or If-None-Match) it holds the request
// until the alias moves or the wait ends (then 304): a long poll.
func (a *api) getAlias(c *gin.Context) {
	name, aliasName := c.Param("name"), c.Param("alias")
	etag := c.Query("etag")
	if etag == "" {
		etag = c.GetHeader("If-None-Match")
	}
	var alias *registry.Alias
	var cur string
	var err error
	if w := c.Query("wait"); w != "" {
		wait, perr := time.ParseDuration(w)
		if perr != nil || wait < 0 {
			a.fail(c, fmt.Errorf("%w: wait %q is not a duration such as 30s", registry.ErrInvalid, w))
			return
		}
		var changed bool
		alias, cur, changed, err = a.svc.WatchAlias(c.Request.Context(), name, aliasName, etag, wait)
		if err == nil && !changed {
			c.Header("ETag", `"`+cur+`"`)
			c.Status(http.StatusNotModified)
			return
		}
	} else {
		alias, cur, err = a.svc.GetAlias(c.Request.Context(), name, aliasName)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	quoted := `"` + cur + `"`
	c.Header("ETag", quoted)
	if etag == quoted || etag == cur {
		c.Status(http.StatusNotModified)
		return
	}
	c.JSON(http.StatusOK, alias)
}

func (a *api) setAlias(c *gin.Context) {
	var req registry.SetAliasRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if id := identity(c); req.Force && id.Role < auth.RoleAdmin {
		a.fail(c, fmt.Errorf("%w: force needs an admin token; token %s has role %s", registry.ErrForbidden, id.Name, id.Role))
		return
	}
	alias, err := a.svc.MoveAlias(c.Request.Context(), c.Param("name"), c.Param("alias"), req, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, alias)
}

func (a *api) deleteAlias(c *gin.Context) {
	expect, err := optionalInt(c, "expect")
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := a.svc.DeleteAlias(c.Request.Context(), c.Param("name"), c.Param("alias"), expect, caller(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
