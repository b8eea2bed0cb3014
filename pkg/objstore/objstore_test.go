package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/objstore/objtesting"
	"github.com/prometheus/client_golang/prometheus"
)

func TestFS(t *testing.T) {
	b, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objtesting.AcceptanceTest(t, b)
}

func TestMemory(t *testing.T) {
	objtesting.AcceptanceTest(t, objstore.NewMemory())
}

// TestS3 runs the suite on versitygw through Open, as the commands do, with
// a prefix and the metrics wrapper on top.
func TestS3(t *testing.T) {
	s3 := testenv.NewS3(t)
	b, err := objstore.Open(context.Background(), "s3://"+s3.Bucket+"/under/here", s3Options(s3))
	if err != nil {
		t.Fatal(err)
	}
	objtesting.AcceptanceTest(t, objstore.WrapWithMetrics(b, prometheus.NewRegistry(), "test_storage"))

	// Everything the suite wrote is under the prefix, and presigning works.
	raw, err := objstore.NewS3(s3.Bucket, s3Options(s3))
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	if err := raw.Iter(context.Background(), "", func(k string) error { top = append(top, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(top, []string{"under/"}) {
		t.Fatalf("bucket root holds %v, want only the prefix folder", top)
	}
	if _, err := raw.PresignGet(context.Background(), "under/ps/x", time.Minute); err != nil {
		t.Fatalf("presign on S3: %v", err)
	}
}

func s3Options(s3 *testenv.S3) objstore.S3Options {
	return objstore.S3Options{
		Endpoint: s3.Endpoint, Region: s3.Region, PathStyle: true,
		AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, PartSize: 5 << 20,
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := objstore.Open(ctx, "file://"+dir, objstore.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upload(ctx, "a/b", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	fs, _ := objstore.NewFS(dir + "/a")
	if data, _, err := objstore.ReadAll(ctx, fs, "b"); err != nil || string(data) != "x" {
		t.Fatalf("file://%s wrote elsewhere: %q, %v", dir, data, err)
	}
	for _, u := range []string{"", "kiln-data", "file://", "s3://", "gs://bucket", "s3://b?x"} {
		if _, err := objstore.Open(ctx, u, objstore.S3Options{Endpoint: "http://127.0.0.1:1"}); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	if _, err := objstore.NewS3("b", objstore.S3Options{Endpoint: "127.0.0.1:9000"}); !errors.Is(err, objstore.ErrInvalid) {
		t.Errorf("endpoint without a scheme: %v, want ErrInvalid", err)
	}
}

func TestWithPrefix(t *testing.T) {
	ctx := context.Background()
	mem := objstore.NewMemory()
	p := objstore.WithPrefix(mem, "/tenant/a/")
	objtesting.AcceptanceTest(t, p)
	if err := p.Upload(ctx, "k", bytes.NewReader([]byte("v"))); err != nil {
		t.Fatal(err)
	}
	if data, _, err := objstore.ReadAll(ctx, mem, "tenant/a/k"); err != nil || string(data) != "v" {
		t.Fatalf("under the prefix: %q, %v", data, err)
	}
	var top []string
	mem.Iter(ctx, "", func(k string) error { top = append(top, k); return nil })
	if !reflect.DeepEqual(top, []string{"tenant/"}) {
		t.Fatalf("root holds %v, want only the prefix folder", top)
	}
	if objstore.WithPrefix(mem, "/") != objstore.ConditionalBucket(mem) {
		t.Error("an empty prefix should return the bucket itself")
	}
}

func TestWrapWithMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	b := objstore.WrapWithMetrics(objstore.NewMemory(), reg, "kiln_test_storage")
	b.Upload(ctx, "a", strings.NewReader("x"))
	b.Get(ctx, "missing")                        // not found: not an error
	b.Create(ctx, "a", nil)                      // conflict: not an error
	b.Upload(ctx, "../x", strings.NewReader("")) // invalid key: an error
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			key := mf.GetName() + "/" + m.Label[0].GetValue()
			if h := m.GetHistogram(); h != nil {
				got[key] = float64(h.GetSampleCount())
			} else {
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"kiln_test_storage_operation_duration_seconds/upload": 2,
		"kiln_test_storage_operation_duration_seconds/get":    1,
		"kiln_test_storage_operation_duration_seconds/create": 1,
		"kiln_test_storage_operation_errors_total/upload":     1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("metrics %v, want %v", got, want)
	}
}
