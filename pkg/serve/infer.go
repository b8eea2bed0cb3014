package serve

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/oip"
)

func (s *Server) infer(c *gin.Context) {
	start := time.Now()
	v, release, err := s.models.Acquire(c.Param("model"), c.Param("version"))
	if err != nil {
		s.metrics.observe("", "", s.fail(c, err), start)
		return
	}
	code := s.runInference(c, v)
	release()
	s.metrics.observe(v.Model, v.version, code, start)
}

// runInference decodes, runs and answers one request, returning the status code written.
func (s *Server) runInference(c *gin.Context, v *Version) int {
	body, err := readBody(c.Request, s.opts.BodyLimit)
	if err != nil {
		return s.fail(c, err)
	}
	headerLen, err := inferenceHeaderLength(c.Request, len(body))
	if err != nil {
		return s.fail(c, err)
	}
	req, err := oip.DecodeRequest(body, headerLen)
	if err != nil {
		return s.fail(c, err)
	}
	names := make([]string, len(req.Outputs))
	for i, o := range req.Outputs {
		names[i] = o.Name
	}
	outputs, err := v.Run(c.Request.Context(), req.Inputs, names)
	if err != nil {
		return s.fail(c, err)
	}
	if outputs, err = classify(v, req, outputs); err != nil {
		return s.fail(c, err)
	}
	resp := &oip.InferResponse{ModelName: v.Model, ModelVersion: v.version, ID: req.ID, Outputs: outputs}
	out, respHeaderLen := oip.EncodeResponse(resp, req.WantsBinary)
	contentType := "application/json"
	if respHeaderLen >= 0 {
		contentType = "application/octet-stream"
		c.Header(oip.HeaderContentLength, strconv.Itoa(respHeaderLen))
	}
	c.Data(http.StatusOK, contentType, out)
	return http.StatusOK
}

// readBody reads the request body, refusing more than limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength < 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if int64(len(body)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
		}
		return body, err
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	return body, nil
}

// inferenceHeaderLength parses Inference-Header-Content-Length; -1 when absent.
func inferenceHeaderLength(r *http.Request, bodyLen int) (int, error) {
	h := r.Header.Get(oip.HeaderContentLength)
	if h == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > bodyLen {
		return 0, badRequest("%s: %q is not a length between 0 and the body size %d", oip.HeaderContentLength, h, bodyLen)
	}
	return n, nil
}
