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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, b) })
	}
}

// cases are the behaviours AcceptanceTest checks, each run as a subtest.
var cases = []struct {
	name string
	run  func(*testing.T, objstore.ConditionalBucket)
}{
	{"upload and read back", testUploadAndReadBack},
	{"failed upload leaves nothing", testFailedUploadLeavesNothing},
	{"create if absent", testCreateIfAbsent},
	{"concurrent creates have one winner", testConcurrentCreatesHaveOneWinner},
	{"swap needs the current etag", testSwapNeedsTheCurrentEtag},
	{"concurrent swaps lose no update", testConcurrentSwapsLoseNoUpdate},
	{"iter lists one level in order", testIterListsOneLevelInOrder},
	{"recursive iter lists every object", testRecursiveIterListsEveryObject},
	{"random access", testRandomAccess},
	{"seeking reads", testSeekingReads},
	{"a folder is not an object", testAFolderIsNotAnObject},
	{"presigned get", testPresignedGet},
	{"delete a folder", testDeleteAFolder},
	{"not found and delete", testNotFoundAndDelete},
	{"keys cannot escape", testKeysCannotEscape},
}

func testUploadAndReadBack(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testFailedUploadLeavesNothing(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testCreateIfAbsent(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testConcurrentCreatesHaveOneWinner(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testSwapNeedsTheCurrentEtag(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testConcurrentSwapsLoseNoUpdate(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testIterListsOneLevelInOrder(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testRecursiveIterListsEveryObject(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testRandomAccess(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testSeekingReads(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
	data := []byte("the quick brown fox jumps over the lazy dog")
	if err := b.Upload(ctx, "rs/fox", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	for _, open := range []func() (io.ReadSeekCloser, error){
		func() (io.ReadSeekCloser, error) { return objstore.OpenReadSeeker(ctx, b, "rs/fox", size) },
		func() (io.ReadSeekCloser, error) { return objstore.LazyReadSeeker(ctx, b, "rs/fox", size), nil },
	} {
		f, err := open()
		if err != nil {
			t.Fatal(err)
		}
		seekAndRead(t, f, data)
		f.Close()
	}
	if _, err := objstore.OpenReadSeeker(ctx, b, "rs/none", 1); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("missing object: %v, want ErrNotFound", err)
	}
	lazy := objstore.LazyReadSeeker(ctx, b, "rs/none", 1)
	defer lazy.Close()
	if _, err := lazy.Read(make([]byte, 1)); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("missing object, read lazily: %v, want ErrNotFound", err)
	}
}

// seekAndRead checks reads of f, which holds data, after seeks back and forth.
func seekAndRead(t *testing.T, f io.ReadSeeker, data []byte) {
	t.Helper()
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
}

func testAFolderIsNotAnObject(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
	if err := b.Upload(ctx, "fo/inner/x", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Attributes(ctx, "fo/inner"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("attributes of a folder: %v, want ErrNotFound", err)
	}
}

func testPresignedGet(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testDeleteAFolder(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testNotFoundAndDelete(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
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
}

func testKeysCannotEscape(t *testing.T, b objstore.ConditionalBucket) {
	ctx := context.Background()
	for _, k := range []string{"../x", "a/../../x", "/etc/passwd", `a\b`, "a//b", ""} {
		if err := b.Upload(ctx, k, bytes.NewReader(nil)); !errors.Is(err, objstore.ErrInvalid) {
			t.Errorf("upload %q: %v, want ErrInvalid", k, err)
		}
		if _, _, err := b.Get(ctx, k); !errors.Is(err, objstore.ErrInvalid) {
			t.Errorf("get %q: %v, want ErrInvalid", k, err)
		}
	}
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
