package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

func (a *api) downloadModel(c *gin.Context) {
	v, err := a.resolve(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.serveBlob(c, Blob{Digest: v.Digest, Size: v.Size}, fmt.Sprintf("%s-%d.onnx", v.Name, v.Version))
}

func (a *api) downloadProfile(c *gin.Context) {
	v, err := a.resolve(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if v.ReferenceProfile == nil {
		a.fail(c, fmt.Errorf("%s: %w: the version has no reference profile", v.Ref(), ErrNotFound))
		return
	}
	a.serveBlob(c, *v.ReferenceProfile, fmt.Sprintf("%s-%d.profile", v.Name, v.Version))
}

func (a *api) resolve(c *gin.Context) (*Version, error) {
	r, err := ref(c)
	if err != nil {
		return nil, err
	}
	return a.svc.Resolve(c.Request.Context(), r)
}

// serveBlob sends a blob with its digest as ETag, honouring If-None-Match
// and a single byte Range, or redirects to a presigned storage URL.
func (a *api) serveBlob(c *gin.Context, b Blob, filename string) {
	etag := `"` + b.Digest + `"`
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Kiln-Digest", b.Digest)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "public, max-age=31536000, immutable") // content-addressed
	if inm := c.GetHeader("If-None-Match"); inm != "" && (inm == etag || inm == "*") {
		c.Status(http.StatusNotModified)
		return
	}
	if a.opts.RedirectDownloads {
		url, err := a.svc.PresignBlob(c.Request.Context(), b.Digest, a.opts.PresignTTL)
		if err == nil {
			c.Redirect(http.StatusTemporaryRedirect, url)
			return
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			a.fail(c, err)
			return
		}
	}
	off, length, status := int64(0), b.Size, http.StatusOK
	if rh := c.GetHeader("Range"); rh != "" && (c.GetHeader("If-Range") == "" || c.GetHeader("If-Range") == etag) {
		var ok bool
		off, length, ok = parseRange(rh, b.Size)
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", b.Size))
			a.fail(c, &APIError{Status: http.StatusRequestedRangeNotSatisfiable, Message: "range " + rh + " is outside the " + strconv.FormatInt(b.Size, 10) + " byte blob"})
			return
		}
		if length != b.Size {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+length-1, b.Size))
		}
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	if c.Request.Method == http.MethodHead {
		c.Status(status)
		return
	}
	if off == 0 && length == b.Size {
		length = -1 // the whole blob: lets a file store hand over the file itself
	}
	rc, err := a.svc.OpenBlob(c.Request.Context(), b.Digest, off, length)
	if err != nil {
		h.Del("Content-Length")
		a.fail(c, err)
		return
	}
	defer rc.Close()
	c.Status(status)
	if _, err := copyBlob(c.Writer, rc); err != nil {
		// The status line is gone; the short body tells the client.
		a.log.Warn("download interrupted", "digest", b.Digest, "err", err)
	}
}

// parseRange parses a single "bytes=" range against size. Several ranges
// or a malformed header select the whole blob (ok true, as RFC 9110
// allows ignoring Range); only an unsatisfiable range gives ok false.
func parseRange(header string, size int64) (off, length int64, ok bool) {
	spec, found := strings.CutPrefix(header, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, true
	}
	if first == "" { // suffix: the last N bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, size, true
		}
		if n == 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, size, true
	}
	if start >= size {
		return 0, 0, false
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return 0, size, true
		}
		end = min(end, size-1)
	}
	return start, end - start + 1, true
}

// copyBlob streams a blob to w with large reads: fewer, bigger writes
// matter when the source is a network stream. Files keep io.Copy, which
// lets the kernel send them (sendfile).
func copyBlob(w io.Writer, r io.Reader) (int64, error) {
	if _, isFile := r.(*os.File); isFile {
		return io.Copy(w, r)
	}
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, make([]byte, 1<<20))
}
