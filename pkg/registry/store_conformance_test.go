package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
)

func TestFSStoreConformance(t *testing.T) {
	s, err := registry.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
}

func TestS3StoreConformance(t *testing.T) {
	testStore(t, newS3Store(t))
}

// newS3Store starts versitygw for the test and opens a store in its bucket.
func newS3Store(t *testing.T) *registry.S3Store {
	t.Helper()
	s3 := testenv.NewS3(t)
	s, err := registry.NewS3Store(context.Background(), s3Options(s3))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func s3Options(s3 *testenv.S3) registry.S3Options {
	return registry.S3Options{
		Bucket: s3.Bucket, Prefix: "reg", Endpoint: s3.Endpoint, Region: s3.Region, PathStyle: true,
		AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, PartSize: 5 << 20,
	}
}

// testStore is the acceptance suite every Store backend must pass.
func testStore(t *testing.T, s registry.Store) {
	ctx := context.Background()

	t.Run("upload and read back", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB: several parts on S3
		if err := s.Upload(ctx, "up/big", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		rc, attrs, err := s.Get(ctx, "up/big")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) || attrs.Size != int64(len(data)) || attrs.ETag == "" {
			t.Fatalf("read %d bytes, attrs %+v; want %d bytes", len(got), attrs, len(data))
		}
		rc, err = s.GetRange(ctx, "up/big", 5, 12)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(rc)
		rc.Close()
		if string(part) != "567890123456" {
			t.Fatalf("range read %q", part)
		}
		rc, err = s.GetRange(ctx, "up/big", int64(len(data))-3, -1)
		if err != nil {
			t.Fatal(err)
		}
		tail, _ := io.ReadAll(rc)
		rc.Close()
		if string(tail) != "789" {
			t.Fatalf("tail read %q", tail)
		}
	})

	t.Run("failed upload leaves nothing", func(t *testing.T) {
		boom := errors.New("client went away")
		r := io.MultiReader(bytes.NewReader(make([]byte, 6<<20)), failingReader{boom})
		if err := s.Upload(ctx, "up/failed", r); !errors.Is(err, boom) {
			t.Fatalf("err %v, want the reader's error", err)
		}
		if ok, err := registry.Exists(ctx, s, "up/failed"); ok || err != nil {
			t.Fatalf("exists %v, %v after a failed upload", ok, err)
		}
		// A failed overwrite keeps the old object.
		if err := s.Upload(ctx, "up/kept", bytes.NewReader([]byte("old"))); err != nil {
			t.Fatal(err)
		}
		if err := s.Upload(ctx, "up/kept", io.MultiReader(bytes.NewReader([]byte("new")), failingReader{boom})); err == nil {
			t.Fatal("want an error")
		}
		if got := readString(t, s, "up/kept"); got != "old" {
			t.Fatalf("after failed overwrite: %q", got)
		}
	})

	t.Run("create if absent", func(t *testing.T) {
		etag, err := s.Create(ctx, "c/one.json", []byte("first"))
		if err != nil || etag == "" {
			t.Fatalf("create: %q, %v", etag, err)
		}
		if _, err := s.Create(ctx, "c/one.json", []byte("second")); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("second create: %v, want ErrConflict", err)
		}
		if got := readString(t, s, "c/one.json"); got != "first" {
			t.Fatalf("content %q", got)
		}
	})

	t.Run("concurrent creates have one winner", func(t *testing.T) {
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Go(func() {
				_, err := s.Create(ctx, "c/race.json", []byte(strconv.Itoa(i)))
				if err == nil {
					wins <- strconv.Itoa(i)
				} else if !errors.Is(err, registry.ErrConflict) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		close(wins)
		var winners []string
		for w := range wins {
			winners = append(winners, w)
		}
		if len(winners) != 1 || readString(t, s, "c/race.json") != winners[0] {
			t.Fatalf("winners %v, stored %q", winners, readString(t, s, "c/race.json"))
		}
	})

	t.Run("swap needs the current etag", func(t *testing.T) {
		etag, err := s.Create(ctx, "s/a.json", []byte("v1"))
		if err != nil {
			t.Fatal(err)
		}
		etag2, err := s.Swap(ctx, "s/a.json", []byte("v2"), etag)
		if err != nil || etag2 == etag {
			t.Fatalf("swap: %q, %v", etag2, err)
		}
		if _, err := s.Swap(ctx, "s/a.json", []byte("v3"), etag); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("stale swap: %v, want ErrConflict", err)
		}
		if _, err := s.Swap(ctx, "s/missing.json", []byte("v3"), etag); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("swap of a missing key: %v, want ErrConflict", err)
		}
		if got := readString(t, s, "s/a.json"); got != "v2" {
			t.Fatalf("content %q", got)
		}
	})

	t.Run("concurrent swaps lose no update", func(t *testing.T) {
		if _, err := s.Create(ctx, "s/counter", []byte("0")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					data, etag, err := registry.ReadAll(ctx, s, "s/counter")
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(data))
					_, err = s.Swap(ctx, "s/counter", []byte(strconv.Itoa(n+1)), etag)
					if err == nil {
						return
					}
					if !errors.Is(err, registry.ErrConflict) {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if got := readString(t, s, "s/counter"); got != "8" {
			t.Fatalf("counter %s after 8 increments", got)
		}
	})

	t.Run("iter lists one level in order", func(t *testing.T) {
		for _, k := range []string{"it/b.json", "it/a.json", "it/sub/x.json", "it/c"} {
			if err := s.Upload(ctx, k, bytes.NewReader([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		if err := s.Iter(ctx, "it/", func(k string) error { keys = append(keys, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := []string{"it/a.json", "it/b.json", "it/c", "it/sub/"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		keys = nil
		if err := s.Iter(ctx, "nothing/here/", func(k string) error { keys = append(keys, k); return nil }); err != nil || keys != nil {
			t.Fatalf("empty folder: %v, %v", keys, err)
		}
	})

	t.Run("not found and delete", func(t *testing.T) {
		if _, _, err := s.Get(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("get: %v, want ErrNotFound", err)
		}
		if _, err := s.Attributes(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("attributes: %v, want ErrNotFound", err)
		}
		if err := s.Upload(ctx, "d/x", bytes.NewReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "d/x"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := registry.Exists(ctx, s, "d/x"); ok {
			t.Fatal("still there after delete")
		}
		if err := s.Delete(ctx, "d/x"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
	})

	t.Run("keys cannot escape", func(t *testing.T) {
		for _, k := range []string{"../x", "a/../../x", "/etc/passwd", `a\b`, "a//b", ""} {
			if err := s.Upload(ctx, k, bytes.NewReader(nil)); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("upload %q: %v, want ErrInvalid", k, err)
			}
			if _, _, err := s.Get(ctx, k); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("get %q: %v, want ErrInvalid", k, err)
			}
		}
	})
}

func readString(t *testing.T, s registry.Store, key string) string {
	t.Helper()
	data, _, err := registry.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatal(fmt.Errorf("read %s: %w", key, err))
	}
	return string(data)
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
