package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/validate"
)

func (a *api) getPolicy(c *gin.Context) {
	p, err := a.svc.GetPolicy(c.Request.Context(), c.Param("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// setPolicy needs the admin role: the policy guards the protected aliases,
// so whoever may move them (writers) must not be able to lower the bar.
func (a *api) setPolicy(c *gin.Context) {
	var p validate.Policy
	if err := decodeJSON(c, &p); err != nil {
		a.fail(c, err)
		return
	}
	out, err := a.svc.SetPolicy(c.Request.Context(), c.Param("name"), p, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (a *api) recordValidation(c *gin.Context) {
	n, err := versionNumber(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	var r validate.Report
	if err := decodeJSON(c, &r); err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.svc.RecordValidation(c.Request.Context(), c.Param("name"), n, r, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
