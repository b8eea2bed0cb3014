package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
)

func (a *api) listModels(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	list, err := a.svc.ListModels(c.Request.Context(), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

func (a *api) getModel(c *gin.Context) {
	m, err := a.svc.GetModel(c.Request.Context(), c.Param("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

func (a *api) listVersions(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	list, err := a.svc.ListVersions(c.Request.Context(), c.Param("name"), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

func (a *api) getVersion(c *gin.Context) {
	r, err := ref(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.svc.Resolve(c.Request.Context(), r)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) updateVersion(c *gin.Context) {
	n, err := versionNumber(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	var u registry.VersionUpdate
	if err := decodeJSON(c, &u); err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.svc.UpdateVersion(c.Request.Context(), c.Param("name"), n, u, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (a *api) deleteVersion(c *gin.Context) {
	n, err := versionNumber(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := a.svc.DeleteVersion(c.Request.Context(), c.Param("name"), n, caller(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) listEvents(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	list, err := a.svc.ListEvents(c.Request.Context(), c.Param("name"), p)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

// maxJSONBody bounds JSON request bodies (an input example can be large).
const maxJSONBody = 16 << 20

// decodeJSON decodes the request body into v, rejecting unknown fields.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if registry.StatusOf(err) == http.StatusRequestEntityTooLarge {
			return fmt.Errorf("%w: JSON body over %d MiB", registry.ErrTooLarge, maxJSONBody>>20)
		}
		return fmt.Errorf("%w: request body: %v", registry.ErrInvalid, err)
	}
	return nil
}
