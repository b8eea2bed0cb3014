package serve

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/oip"
)

// gzipResponseMin is the smallest response body worth compressing when the
// client accepts gzip.
const gzipResponseMin = 4 << 10

// infer is the REST front end of the inference core: it decodes the body
// (gzip or deflate per Content-Encoding, JSON or the binary extension),
// calls Infer, and encodes the answer or the error.
func (s *Server) infer(c *gin.Context) {
	start := time.Now()
	call := Call{Model: c.Param("model"), Version: c.Param("version"), Protocol: ProtocolREST, Received: start, RequestID: c.GetHeader("X-Request-Id"), Header: c.GetHeader}
	req, err := s.decodeRequest(c.Request)
	if err != nil {
		s.countEarlyFailure(call, err, start)
		s.writeFailure(c, err)
		return
	}
	call.Request = req
	err = s.Infer(c.Request.Context(), call, func(resp *oip.InferResponse) error {
		s.writeResponse(c, resp, req.WantsBinary)
		return nil
	})
	if err != nil {
		s.writeFailure(c, err)
	}
}

// decodeRequest reads and decodes an inference request body.
func (s *Server) decodeRequest(r *http.Request) (*oip.InferRequest, error) {
	body, err := readBody(r, s.opts.BodyLimit)
	if err != nil {
		return nil, err
	}
	headerLen, err := inferenceHeaderLength(r, len(body))
	if err != nil {
		return nil, err
	}
	return oip.DecodeRequest(body, headerLen)
}

// The Content-Type values of a response, made once: a header's value slice
// is only read once set.
var (
	contentTypeJSON   = []string{oip.ContentTypeJSON}
	contentTypeBinary = []string{oip.ContentTypeBinary}
)

// writeResponse encodes resp, gzip-compressed when the client accepts it and
// the body is large enough to gain from it.
func (s *Server) writeResponse(c *gin.Context, resp *oip.InferResponse, binary func(string) bool) {
	out, headerLen := oip.EncodeResponse(resp, binary)
	h := c.Writer.Header()
	h["Content-Type"] = contentTypeJSON
	if headerLen >= 0 {
		h["Content-Type"] = contentTypeBinary
		h.Set(oip.HeaderContentLength, strconv.Itoa(headerLen))
	}
	if len(out) >= gzipResponseMin && acceptsGzip(c.Request) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Vary", "Accept-Encoding")
		c.Writer.WriteHeader(http.StatusOK)
		zw := gzip.NewWriter(c.Writer)
		zw.Write(out)
		zw.Close()
		return
	}
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(out)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// readBody reads the request body, decoding gzip or deflate per
// Content-Encoding, and refuses more than limit bytes of (decoded) body.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	encoding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if encoding == "" || encoding == "identity" {
		return readLimited(r.Body, r.ContentLength, limit)
	}
	var decoded io.ReadCloser
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("Content-Encoding gzip: %v", err)
		}
		decoded = zr
	case "deflate":
		decoded = flate.NewReader(r.Body)
	default:
		return nil, badRequest("Content-Encoding %q is not supported: send gzip, deflate or none", encoding)
	}
	defer decoded.Close()
	body, err := readLimited(decoded, -1, limit)
	if err != nil && !isTooLarge(err) {
		return nil, badRequest("Content-Encoding %s: %v", encoding, err)
	}
	return body, err
}

// readLimited reads a body of length n (-1 when unknown), refusing more than limit bytes.
func readLimited(r io.Reader, n, limit int64) ([]byte, error) {
	if n > limit {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, n, limit)
	}
	if n < 0 {
		body, err := io.ReadAll(http.MaxBytesReader(nil, io.NopCloser(r), limit))
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
		}
		return body, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	return body, nil
}

func isTooLarge(err error) bool { return classOf(err) == classTooLarge }

// inferenceHeaderLength parses Inference-Header-Content-Length, which counts
// bytes of the decoded body; -1 when absent.
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
