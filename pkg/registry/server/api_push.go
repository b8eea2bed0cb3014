package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/registry"
)

// push handles POST /api/v1/models/:name/versions: a multipart body with a
// "meta" part (PushRequest JSON), an optional "reference_profile" part and
// the "model" part, each streamed to storage as it arrives.
func (a *api) push(c *gin.Context) {
	ctx := c.Request.Context()
	limit := 2*a.svc.MaxModelBytes() + maxJSONBody // a model, a profile and the metadata
	if c.Request.ContentLength > limit {
		a.fail(c, fmt.Errorf("%w: request of %d bytes is over the limit of %d", registry.ErrTooLarge, c.Request.ContentLength, limit))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		a.fail(c, fmt.Errorf("%w: send multipart/form-data with the parts meta, [reference_profile,] model: %v", registry.ErrInvalid, err))
		return
	}
	meta, err := readMeta(mr)
	if err != nil {
		a.fail(c, err)
		return
	}
	var v *registry.Version
	for v == nil {
		part, err := mr.NextPart()
		if err == io.EOF {
			a.fail(c, fmt.Errorf("%w: the request has no %q part", registry.ErrInvalid, registry.PartModel))
			return
		}
		if err != nil {
			a.fail(c, bodyError(err))
			return
		}
		switch part.FormName() {
		case registry.PartReferenceProfile:
			if meta.ReferenceProfileDigest == "" {
				a.fail(c, fmt.Errorf("%w: a reference_profile part needs reference_profile_digest in meta", registry.ErrInvalid))
				return
			}
			_, err = a.svc.PutReferenceProfile(ctx, meta.ReferenceProfileDigest, part)
		case registry.PartModel:
			v, err = a.svc.Push(ctx, c.Param("name"), *meta, part, caller(c))
		default:
			err = fmt.Errorf("%w: unexpected part %q", registry.ErrInvalid, part.FormName())
		}
		if err != nil {
			a.fail(c, bodyError(err))
			return
		}
	}
	c.Header("Location", "/api/v1/models/"+v.Name+"/versions/"+strconv.Itoa(v.Version))
	c.JSON(http.StatusCreated, v)
}

// readMeta decodes the first part, which must be the "meta" JSON.
func readMeta(mr *multipart.Reader) (*registry.PushRequest, error) {
	part, err := mr.NextPart()
	if err != nil {
		return nil, bodyError(fmt.Errorf("read the %q part: %w", registry.PartMeta, err))
	}
	if part.FormName() != registry.PartMeta {
		return nil, fmt.Errorf("%w: the first part must be %q, not %q", registry.ErrInvalid, registry.PartMeta, part.FormName())
	}
	var meta registry.PushRequest
	dec := json.NewDecoder(io.LimitReader(part, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("%w: meta part: %v", registry.ErrInvalid, err)
	}
	return &meta, nil
}

// bodyError classifies errors from reading a request body that are not
// already ours: a cut-off or malformed body is the client's fault.
func bodyError(err error) error {
	if registry.StatusOf(err) != http.StatusInternalServerError {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: request body ended early: %v", registry.ErrInvalid, err)
	}
	return err
}
