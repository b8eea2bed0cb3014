package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
)

// recordRolloutStop takes a node's report; the reader role may send it, so
// that nodes need no write token.
func (a *api) recordRolloutStop(c *gin.Context) {
	var r registry.RolloutReport
	if err := decodeJSON(c, &r); err != nil {
		a.fail(c, err)
		return
	}
	e, err := a.svc.RecordRolloutStop(c.Request.Context(), c.Param("name"), r, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}
