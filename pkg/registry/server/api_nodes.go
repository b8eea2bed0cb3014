package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
)

// reportNode records a serving node's heartbeat (PUT /api/v1/nodes/{node}).
// Unknown fields are ignored, so that newer nodes can report to an older
// registry during an upgrade.
func (a *api) reportNode(c *gin.Context) {
	var hb registry.Heartbeat
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxHeartbeatBytes))
	if err := dec.Decode(&hb); err != nil {
		if registry.StatusOf(err) == http.StatusRequestEntityTooLarge {
			a.fail(c, fmt.Errorf("%w: heartbeat over %d KiB", registry.ErrTooLarge, maxHeartbeatBytes>>10))
			return
		}
		a.fail(c, fmt.Errorf("%w: heartbeat body: %v", registry.ErrInvalid, err))
		return
	}
	n, err := a.nodes.Report(c.Param("node"), hb, caller(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

func (a *api) listNodes(c *gin.Context) {
	c.JSON(http.StatusOK, registry.NodeList{Nodes: a.nodes.List()})
}

func (a *api) getNode(c *gin.Context) {
	n, ok := a.nodes.Get(c.Param("node"))
	if !ok {
		a.fail(c, fmt.Errorf("node %q: %w: it has not reported in its time to live", c.Param("node"), registry.ErrNotFound))
		return
	}
	c.JSON(http.StatusOK, n)
}

// modelNodes lists the nodes serving a model ("served by").
func (a *api) modelNodes(c *gin.Context) {
	c.JSON(http.StatusOK, registry.NodeList{Nodes: a.nodes.ServedBy(c.Param("name"))})
}
