package testenv

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// Registry is the kiln-registry API served on loopback for one test.
type Registry struct {
	URL     string
	Store   storage.Store
	Service *storage.Service
	server  *httptest.Server
}

// StartRegistry serves the registry API over store on loopback until the
// test ends. Logs are discarded unless the options name a logger.
func StartRegistry(t testing.TB, store storage.Store, svcOpts storage.Options, apiOpts server.Options) *Registry {
	t.Helper()
	if svcOpts.Logger == nil {
		svcOpts.Logger = slog.New(slog.DiscardHandler)
	}
	if apiOpts.Logger == nil {
		apiOpts.Logger = svcOpts.Logger
	}
	gin.SetMode(gin.ReleaseMode)
	svc := storage.NewService(store, svcOpts)
	srv := httptest.NewServer(server.NewHandler(svc, apiOpts))
	t.Cleanup(srv.Close)
	return &Registry{URL: srv.URL, Store: store, Service: svc, server: srv}
}

// Close stops serving before the test ends (a registry that goes down).
func (r *Registry) Close() { r.server.Close() }

// Client returns a client of r that sends token (none when empty).
func (r *Registry) Client(token string) *registry.Client {
	return registry.NewClient(r.URL, token, nil)
}

// FolderStore opens a registry store in dir, or in a new temporary folder
// when dir is empty.
func FolderStore(t testing.TB, dir string) storage.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := storage.NewFSStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RegistryStore opens a registry store under the prefix reg/ of the
// bucket, the way kiln-registry opens an s3:// store.
func (s *S3) RegistryStore(t testing.TB) storage.Store {
	t.Helper()
	store, err := objstore.Open(context.Background(), "s3://"+s.Bucket+"/reg", objstore.S3Options{
		Endpoint: s.Endpoint, Region: s.Region, PathStyle: true,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey, PartSize: 5 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	return store
}
