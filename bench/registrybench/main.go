// Command registrybench measures push and pull throughput of a 256 MiB
// model through kiln-registry (S3 store on a local versitygw) against
// minio-go Put and Get of the same bytes on the same server, and prints
// one markdown table row per measurement with the ratio.
//
//	go run ./bench/registrybench [-size-mib 256] [-runs 5]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/minio/minio-go/v7"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

func main() {
	sizeMiB := flag.Int("size-mib", 256, "model size in MiB")
	runs := flag.Int("runs", 5, "runs per measurement; the median is reported")
	flag.Parse()
	if err := run(context.Background(), int64(*sizeMiB)<<20, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "registrybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, size int64, runs int) error {
	dir, err := os.MkdirTemp("", "registrybench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s3, stopS3, err := testenv.StartS3(ctx, dir)
	if err != nil {
		return err
	}
	defer stopS3()

	store, err := objstore.Open(ctx, "s3://"+s3.Bucket+"/registry", objstore.S3Options{
		Endpoint: s3.Endpoint, Region: s3.Region,
		PathStyle: true, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey,
	})
	if err != nil {
		return err
	}
	url, stopRegistry, err := serveRegistry(store, false)
	if err != nil {
		return err
	}
	defer stopRegistry()
	client := registry.NewClient(url, "", nil)
	redirectURL, stopRedirecting, err := serveRegistry(store, true)
	if err != nil {
		return err
	}
	defer stopRedirecting()

	path := filepath.Join(dir, "model.onnx")
	digest, err := writeModel(path, size)
	if err != nil {
		return err
	}
	mb := float64(size) / 1e6
	direct, err := s3.Client()
	if err != nil {
		return err
	}

	pushKiln := func() error {
		// Remove the blob so every push stores the bytes again.
		if err := store.Delete(ctx, "blobs/sha256/"+digest[len("sha256:"):]); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = client.Push(ctx, "bench", registry.PushRequest{Digest: digest}, f, nil)
		return err
	}
	putDirect := func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = direct.PutObject(ctx, s3.Bucket, "direct/model.onnx", f, size, minio.PutObjectOptions{})
		return err
	}
	pushes, err := medians(runs, pushKiln, putDirect)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	pulls, err := medians(runs,
		func() error { return httpGet(url + "/api/v1/models/bench/versions/1/model") },
		func() error { return httpGet(redirectURL + "/api/v1/models/bench/versions/1/model") },
		func() error {
			_, err := client.Download(ctx, registry.Ref{Name: "bench", Version: 1}, io.Discard)
			return err
		},
		func() error {
			obj, err := direct.GetObject(ctx, s3.Bucket, "direct/model.onnx", minio.GetObjectOptions{})
			if err != nil {
				return err
			}
			defer obj.Close()
			_, err = io.Copy(io.Discard, obj)
			return err
		})
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	directPut, directGet := pushes[1], pulls[3]

	fmt.Println("| measurement | kiln-registry MB/s | direct minio-go MB/s | ratio | goal |")
	fmt.Println("|---|---|---|---|---|")
	for _, row := range []struct {
		name       string
		kiln, base time.Duration
	}{
		{"registry push", pushes[0], directPut},
		{"registry pull", pulls[0], directGet},
		{"registry pull, --redirect-downloads", pulls[1], directGet},
		{"registry pull + client sha256 check", pulls[2], directGet},
	} {
		k, d := mb/row.kiln.Seconds(), mb/row.base.Seconds()
		fmt.Printf("| %s %d MiB | %.0f | %.0f | %.2f | ≥ 0.8 |\n", row.name, size>>20, k, d, k/d)
	}
	return nil
}

// serveRegistry runs the registry API over store on a loopback port,
// optionally redirecting downloads to presigned S3 URLs.
func serveRegistry(store storage.Store, redirect bool) (string, func(), error) {
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.DiscardHandler)
	svc := storage.NewService(store, storage.Options{Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: server.NewHandler(svc, server.Options{Logger: log, RedirectDownloads: redirect})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// writeModel writes a valid ONNX model of about size bytes (one large
// initializer) to path and returns its digest.
func writeModel(path string, size int64) (string, error) {
	m, err := onnx.NewBuilder("bench").
		Input("x", onnx.TensorType(onnx.Float, -1, 2)).
		Initializer("b", onnx.Float, []int64{2}, []float32{1, 1}).
		Node("Add", []string{"x", "b"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, -1, 2)).
		Build()
	if err != nil {
		return "", err
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := m.WriteWithRawInitializer(io.MultiWriter(f, h), "weights", onnx.Uint8, []int64{size}, io.LimitReader(noise{}, size)); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), f.Close()
}

// httpGet downloads url to nowhere, following redirects.
func httpGet(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// medians runs every f once per round, interleaved so that changing load
// on the machine hits them alike, and returns each one's median duration.
func medians(rounds int, fs ...func() error) ([]time.Duration, error) {
	times := make([][]time.Duration, len(fs))
	for range rounds {
		for i, f := range fs {
			start := time.Now()
			if err := f(); err != nil {
				return nil, err
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	out := make([]time.Duration, len(fs))
	for i, ts := range times {
		slices.Sort(ts)
		out[i] = ts[len(ts)/2]
	}
	return out, nil
}

// noise yields varied bytes.
type noise struct{}

func (noise) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*131 + i>>9)
	}
	return len(p), nil
}
