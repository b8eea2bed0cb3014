// Package objtesting is the acceptance suite every objstore provider passes.
package objtesting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnml/kiln/pkg/objstore"
)

// AcceptanceTest checks that b behaves as every ConditionalBucket must:
// whole and ranged reads, atomic uploads, conditional writes with exactly
// one winner, listing, not-found answers, deletes and safe keys. b must be
// empty; large uploads (10 MiB) exercise multipart uploads on S3.
func AcceptanceTest(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()

	t.Run("upload and read back", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB: several parts on S3
		if err := b.Upload(ctx, "up/big", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		rc, attrs, err := b.Get(ctx, "up/big")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) || attrs.Size != int64(len(data)) || attrs.ETag == "" {
			t.Fatalf("read %d bytes, attrs %+v; want %d bytes", len(got), attrs, len(data))
		}
		rc, err = b.GetRange(ctx, "up/big", 5, 12)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(rc)
		rc.Close()
		if string(part) != "567890123456" {
			t.Fatalf("range read %q", part)
		}
		rc, err = b.GetRange(ctx, "up/big", int64(len(data))-3, -1)
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
		if err := b.Upload(ctx, "up/failed", r); !errors.Is(err, boom) {
			t.Fatalf("err %v, want the reader's error", err)
		}
		if ok, err := objstore.Exists(ctx, b, "up/failed"); ok || err != nil {
			t.Fatalf("exists %v, %v after a failed upload", ok, err)
		}
		// A failed overwrite keeps the old object.
		if err := b.Upload(ctx, "up/kept", bytes.NewReader([]byte("old"))); err != nil {
			t.Fatal(err)
		}
		if err := b.Upload(ctx, "up/kept", io.MultiReader(bytes.NewReader([]byte("new")), failingReader{boom})); err == nil {
			t.Fatal("want an error")
		}
		if got := readString(t, b, "up/kept"); got != "old" {
			t.Fatalf("after failed overwrite: %q", got)
		}
	})

	t.Run("create if absent", func(t *testing.T) {
		etag, err := b.Create(ctx, "c/one.json", []byte("first"))
		if err != nil || etag == "" {
			t.Fatalf("create: %q, %v", etag, err)
		}
		if _, err := b.Create(ctx, "c/one.json", []byte("second")); !errors.Is(err, objstore.ErrConflict) {
			t.Fatalf("second create: %v, want ErrConflict", err)
		}
		if got := readString(t, b, "c/one.json"); got != "first" {
			t.Fatalf("content %q", got)
		}
	})

	t.Run("concurrent creates have one winner", func(t *testing.T) {
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Go(func() {
				_, err := b.Create(ctx, "c/race.json", []byte(strconv.Itoa(i)))
				if err == nil {
					wins <- strconv.Itoa(i)
				} else if !errors.Is(err, objstore.ErrConflict) {
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
		if len(winners) != 1 || readString(t, b, "c/race.json") != winners[0] {
			t.Fatalf("winners %v, stored %q", winners, readString(t, b, "c/race.json"))
		}
	})

	t.Run("swap needs the current etag", func(t *testing.T) {
		etag, err := b.Create(ctx, "s/a.json", []byte("v1"))
		if err != nil {
			t.Fatal(err)
		}
		etag2, err := b.Swap(ctx, "s/a.json", []byte("v2"), etag)
		if err != nil || etag2 == etag {
			t.Fatalf("swap: %q, %v", etag2, err)
		}
		if _, err := b.Swap(ctx, "s/a.json", []byte("v3"), etag); !errors.Is(err, objstore.ErrConflict) {
			t.Fatalf("stale swap: %v, want ErrConflict", err)
		}
		if _, err := b.Swap(ctx, "s/missing.json", []byte("v3"), etag); !errors.Is(err, objstore.ErrConflict) {
			t.Fatalf("swap of a missing key: %v, want ErrConflict", err)
		}
		if got := readString(t, b, "s/a.json"); got != "v2" {
			t.Fatalf("content %q", got)
		}
	})

	t.Run("concurrent swaps lose no update", func(t *testing.T) {
		if _, err := b.Create(ctx, "s/counter", []byte("0")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					data, etag, err := objstore.ReadAll(ctx, b, "s/counter")
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(data))
					_, err = b.Swap(ctx, "s/counter", []byte(strconv.Itoa(n+1)), etag)
					if err == nil {
						return
					}
					if !errors.Is(err, objstore.ErrConflict) {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if got := readString(t, b, "s/counter"); got != "8" {
			t.Fatalf("counter %s after 8 increments", got)
		}
	})

	t.Run("iter lists one level in order", func(t *testing.T) {
		for _, k := range []string{"it/b.json", "it/a.json", "it/sub/x.json", "it/c"} {
			if err := b.Upload(ctx, k, bytes.NewReader([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		if err := b.Iter(ctx, "it/", func(k string) error { keys = append(keys, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := []string{"it/a.json", "it/b.json", "it/c", "it/sub/"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		keys = nil
		if err := b.Iter(ctx, "nothing/here/", func(k string) error { keys = append(keys, k); return nil }); err != nil || keys != nil {
			t.Fatalf("empty folder: %v, %v", keys, err)
		}
	})

	t.Run("recursive iter lists every object", func(t *testing.T) {
		for _, k := range []string{"rec/b", "rec/a/x", "rec/a/y/z", "recx"} {
			if err := b.Upload(ctx, k, bytes.NewReader([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		if err := b.Iter(ctx, "rec", func(k string) error { keys = append(keys, k); return nil }, objstore.Recursive()); err != nil {
			t.Fatal(err)
		}
		if want := []string{"rec/a/x", "rec/a/y/z", "rec/b"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		stop := errors.New("stop")
		n := 0
		if err := b.Iter(ctx, "rec/", func(string) error { n++; return stop }, objstore.Recursive()); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("iter returned %v after %d calls, want the callback's error after 1", err, n)
		}
	})

	t.Run("random access", func(t *testing.T) {
		data := []byte("the quick brown fox jumps over the lazy dog")
		if err := b.Upload(ctx, "ra/fox", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		f, size, err := objstore.OpenReaderAt(ctx, b, "ra/fox")
		if err != nil || size != int64(len(data)) {
			t.Fatalf("open: size %d, %v", size, err)
		}
		defer f.Close()
		buf := make([]byte, 5)
		if n, err := f.ReadAt(buf, 16); n != 5 || err != nil || string(buf) != "fox j" {
			t.Fatalf("read at 16: %q, %d, %v", buf[:n], n, err)
		}
		if n, err := f.ReadAt(buf, size-3); n != 3 || err != io.EOF || string(buf[:n]) != "dog" {
			t.Fatalf("read at the end: %q, %d, %v; want dog, 3, EOF", buf[:n], n, err)
		}
		all, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("sequential read: %q, %v", all, err)
		}
		if _, _, err := objstore.OpenReaderAt(ctx, b, "ra/none"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("missing object: %v, want ErrNotFound", err)
		}
	})

	t.Run("seeking reads", func(t *testing.T) {
		data := []byte("the quick brown fox jumps over the lazy dog")
		if err := b.Upload(ctx, "rs/fox", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		f, err := objstore.OpenReadSeeker(ctx, b, "rs/fox", int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if end, err := f.Seek(0, io.SeekEnd); end != int64(len(data)) || err != nil {
			t.Fatalf("seek to the end: %d, %v", end, err)
		}
		buf := make([]byte, 5)
		for _, off := range []int64{16, 4, 16} { // back and forth: each seek reads from there
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(f, buf); err != nil || string(buf) != string(data[off:off+5]) {
				t.Fatalf("read at %d: %q, %v", off, buf, err)
			}
		}
		rest, err := io.ReadAll(f)
		if err != nil || string(rest) != string(data[21:]) {
			t.Fatalf("read on to the end: %q, %v", rest, err)
		}
		if _, err := f.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("seek before the start: no error")
		}
		if _, err := objstore.OpenReadSeeker(ctx, b, "rs/none", 1); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("missing object: %v, want ErrNotFound", err)
		}
	})

	t.Run("a folder is not an object", func(t *testing.T) {
		if err := b.Upload(ctx, "fo/inner/x", bytes.NewReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Attributes(ctx, "fo/inner"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("attributes of a folder: %v, want ErrNotFound", err)
		}
	})

	t.Run("presigned get", func(t *testing.T) {
		if err := b.Upload(ctx, "ps/x", bytes.NewReader([]byte("signed"))); err != nil {
			t.Fatal(err)
		}
		u, err := b.PresignGet(ctx, "ps/x", time.Minute)
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip("the bucket hands out no URLs")
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != "signed" {
			t.Fatalf("GET presigned URL: %d %q", resp.StatusCode, got)
		}
	})

	t.Run("delete a folder", func(t *testing.T) {
		for _, k := range []string{"da/x", "da/sub/y", "dab"} {
			if err := b.Upload(ctx, k, bytes.NewReader([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		if err := objstore.DeleteAll(ctx, b, "da/"); err != nil {
			t.Fatal(err)
		}
		var keys []string
		b.Iter(ctx, "", func(k string) error {
			if strings.HasPrefix(k, "da") {
				keys = append(keys, k)
			}
			return nil
		})
		if want := []string{"dab"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("left %v, want %v", keys, want)
		}
	})

	t.Run("not found and delete", func(t *testing.T) {
		if _, _, err := b.Get(ctx, "nope"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("get: %v, want ErrNotFound", err)
		}
		if _, err := b.Attributes(ctx, "nope"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("attributes: %v, want ErrNotFound", err)
		}
		if err := b.Upload(ctx, "d/x", bytes.NewReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "d/x"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := objstore.Exists(ctx, b, "d/x"); ok {
			t.Fatal("still there after delete")
		}
		if err := b.Delete(ctx, "d/x"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
	})

	t.Run("keys cannot escape", func(t *testing.T) {
		for _, k := range []string{"../x", "a/../../x", "/etc/passwd", `a\b`, "a//b", ""} {
			if err := b.Upload(ctx, k, bytes.NewReader(nil)); !errors.Is(err, objstore.ErrInvalid) {
				t.Errorf("upload %q: %v, want ErrInvalid", k, err)
			}
			if _, _, err := b.Get(ctx, k); !errors.Is(err, objstore.ErrInvalid) {
				t.Errorf("get %q: %v, want ErrInvalid", k, err)
			}
		}
	})
}

func readString(t *testing.T, b objstore.Bucket, key string) string {
	t.Helper()
	data, _, err := objstore.ReadAll(context.Background(), b, key)
	if err != nil {
		t.Fatal(fmt.Errorf("read %s: %w", key, err))
	}
	return string(data)
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
