package registry

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

func (a *api) listAliases(c *gin.Context) {
	aliases, err := a.svc.ListAliases(c.Request.Context(), c.Param("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, AliasList{Aliases: aliases})
}

// getAlias answers with the alias and its ETag; with a matching
// If-None-Match it answers 304, which makes polling for moves cheap.
func (a *api) getAlias(c *gin.Context) {
	alias, etag, err := a.svc.GetAlias(c.Request.Context(), c.Param("name"), c.Param("alias"))
	if err != nil {
		a.fail(c, err)
		return
	}
	quoted := `"` + etag + `"`
	c.Header("ETag", quoted)
	if c.GetHeader("If-None-Match") == quoted {
		c.Status(http.StatusNotModified)
		return
	}
	c.JSON(http.StatusOK, alias)
}

func (a *api) setAlias(c *gin.Context) {
	var req SetAliasRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	if id := identity(c); req.Force && id.Role < RoleAdmin {
		a.fail(c, fmt.Errorf("%w: force needs an admin token; token %s has role %s", ErrForbidden, id.Name, id.Role))
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
