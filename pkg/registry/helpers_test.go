package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// testModel returns the bytes of a small valid ONNX model, y = x + seed.
func testModel(t testing.TB, seed float32) []byte {
	t.Helper()
	data, err := testenv.AdderModel(t, seed).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// registryServer is a registry served over real HTTP on loopback.
type registryServer struct {
	URL   string
	Store registry.Store
	Svc   *registry.Service
}

// serve starts the HTTP API over store and returns it with a client using token.
func serve(t testing.TB, store registry.Store, svcOpts registry.ServiceOptions, apiOpts registry.APIOptions, token string) (*registryServer, *registry.Client) {
	t.Helper()
	if svcOpts.Logger == nil {
		svcOpts.Logger = slog.New(slog.DiscardHandler)
	}
	if apiOpts.Logger == nil {
		apiOpts.Logger = svcOpts.Logger
	}
	svc := registry.NewService(store, svcOpts)
	srv := httptest.NewServer(registry.NewHandler(svc, apiOpts))
	t.Cleanup(srv.Close)
	return &registryServer{URL: srv.URL, Store: store, Svc: svc}, registry.NewClient(srv.URL, token, nil)
}

func newFSStore(t testing.TB) registry.Store {
	t.Helper()
	s, err := registry.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newS3Store starts versitygw for the test and opens a store in its bucket.
func newS3Store(t *testing.T) registry.Store {
	t.Helper()
	return openS3Store(t, testenv.NewS3(t))
}

// openS3Store opens a store under the prefix reg/ of env's bucket, the way
// kiln-registry does.
func openS3Store(t testing.TB, env *testenv.S3) registry.Store {
	t.Helper()
	s, err := objstore.Open(context.Background(), "s3://"+env.Bucket+"/reg", objstore.S3Options{
		Endpoint: env.Endpoint, Region: env.Region, PathStyle: true,
		AccessKey: env.AccessKey, SecretKey: env.SecretKey, PartSize: 5 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// backends runs f against a fresh fs store and a fresh S3 store.
func backends(t *testing.T, f func(t *testing.T, store registry.Store)) {
	t.Run("fs", func(t *testing.T) { f(t, newFSStore(t)) })
	t.Run("s3", func(t *testing.T) { f(t, newS3Store(t)) })
}

// listAll returns every key in the store, recursively, sorted.
func listAll(t testing.TB, s registry.Store) []string {
	t.Helper()
	var keys []string
	var walk func(dir string)
	walk = func(dir string) {
		err := s.Iter(context.Background(), dir, func(k string) error {
			if strings.HasSuffix(k, "/") {
				walk(k)
			} else {
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	walk("")
	sort.Strings(keys)
	return keys
}
