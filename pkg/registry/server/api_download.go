package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
)

func (a *api) downloadModel(c *gin.Context) {
	v, err := a.resolve(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.serveBlob(c, registry.Blob{Digest: v.Digest, Size: v.Size}, fmt.Sprintf("%s-%d.onnx", v.Name, v.Version))
}

func (a *api) downloadProfile(c *gin.Context) {
	v, err := a.resolve(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if v.ReferenceProfile == nil {
		a.fail(c, fmt.Errorf("%s: %w: the version has no reference profile", v.Ref(), registry.ErrNotFound))
		return
	}
	a.serveBlob(c, *v.ReferenceProfile, fmt.Sprintf("%s-%d.profile", v.Name, v.Version))
}

func (a *api) resolve(c *gin.Context) (*registry.Version, error) {
	r, err := ref(c)
	if err != nil {
		return nil, err
	}
	return a.svc.Resolve(c.Request.Context(), r)
}

// serveBlob sends a blob with its digest as ETag through http.ServeContent
// (If-None-Match, If-Range, byte ranges, HEAD), or redirects to a presigned
// storage URL.
func (a *api) serveBlob(c *gin.Context, b registry.Blob, filename string) {
	h := c.Writer.Header()
	h.Set("ETag", `"`+b.Digest+`"`)
	h.Set("Kiln-Digest", b.Digest)
	h.Set("Cache-Control", "public, max-age=31536000, immutable") // content-addressed
	// A client that has the blob gets its 304, not a redirect; neither a
	// 304 nor a HEAD needs the blob opened.
	cached := notModified(c, h.Get("ETag"))
	if a.opts.RedirectDownloads && !cached {
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
	blob, err := a.svc.SeekBlob(c.Request.Context(), b.Digest, b.Size, cached || c.Request.Method == http.MethodHead)
	if err != nil {
		a.fail(c, err)
		return
	}
	defer blob.Close()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w := &blobWriter{ResponseWriter: c.Writer}
	http.ServeContent(w, c.Request, "", time.Time{}, blob)
	if w.status != 0 {
		h.Del("X-Content-Type-Options")
		h.Del("Content-Type")
		a.fail(c, &registry.APIError{Status: w.status, Message: strings.TrimSpace(w.text.String()) + " for the " + strconv.FormatInt(b.Size, 10) + " byte blob"})
	}
}

// notModified reports whether the request's If-None-Match already names etag.
func notModified(c *gin.Context, etag string) bool {
	inm := c.GetHeader("If-None-Match")
	return inm == "*" || strings.Contains(inm, etag)
}

// blobWriter is the response writer http.ServeContent gets. It holds back
// the plain-text error ServeContent writes (an unsatisfiable range, a failed
// read before the first byte), so that the API can answer with its
// {"error": ...} body instead, and it copies with large reads.
type blobWriter struct {
	gin.ResponseWriter
	status int
	text   strings.Builder
}

func (w *blobWriter) WriteHeader(code int) {
	if code >= 400 {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *blobWriter) Write(p []byte) (int, error) {
	if w.status != 0 {
		return w.text.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom copies with 1 MiB reads: fewer, bigger writes matter when the
// blob streams from object storage (32 KiB reads cost a third of the speed).
func (w *blobWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{w}, r, make([]byte, 1<<20))
}
