package predlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/oip"
)

func record(i int) *Record {
	return &Record{
		Time: time.Now(), RequestID: "r" + string(rune('a'+i%26)), Model: "iris", Version: "1",
		Inputs:  []*oip.Tensor{oip.NewTensor("input", []int64{1, 4}, []float32{float32(i), 2, 3, 4})},
		Outputs: []*oip.Tensor{oip.NewBytesTensor("label", []int64{1}, [][]byte{[]byte("setosa")})},
	}
}

// readAll decodes every record of the finished files in dir, oldest first.
func readAll(t *testing.T, dir string) []Record {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "predictions-*.jsonl"))
	var out []Record
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, r)
		}
		f.Close()
	}
	return out
}

func TestEveryRecordIsWrittenByClose(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, SampleRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if !l.Sampled() || !l.Add(record(i)) {
			t.Fatalf("record %d not taken", i)
		}
	}
	l.Close()
	got := readAll(t, dir)
	if len(got) != 100 || l.Written() != 100 {
		t.Fatalf("%d records in files (%d written), want 100", len(got), l.Written())
	}
	x, _ := oip.Values[float32](got[42].Inputs[0])
	if got[42].Model != "iris" || x[0] != 42 || string(got[42].Outputs[0].Strings[0]) != "setosa" {
		t.Errorf("record 42: %+v", got[42])
	}
	if open, _ := filepath.Glob(filepath.Join(dir, "*.open")); len(open) != 0 {
		t.Errorf("files left open after Close: %v", open)
	}
}

func TestRotationKeepsNewestFiles(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(Options{Dir: dir, SampleRate: 1, MaxFileBytes: 1000, MaxFiles: 3})
	for i := range 200 {
		l.Add(record(i))
	}
	l.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "predictions-*.jsonl"))
	got := readAll(t, dir)
	if len(files) != 3 || len(got) == 0 || len(got) >= 200 {
		t.Fatalf("%d files with %d records, want the newest 3 files", len(files), len(got))
	}
	if x, _ := oip.Values[float32](got[len(got)-1].Inputs[0]); x[0] != 199 {
		t.Errorf("last record %v, want the 200th", x)
	}
}

func TestSamplingRate(t *testing.T) {
	l, _ := Open(Options{Dir: t.TempDir(), SampleRate: 0.1})
	defer l.Close()
	n := 0
	for range 20000 {
		if l.Sampled() {
			n++
		}
	}
	if n < 1500 || n > 2500 {
		t.Errorf("%d of 20000 sampled at rate 0.1", n)
	}
}

// blockingUploader holds the writer inside Upload until released.
type blockingUploader struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	keys    []string
}

func (b *blockingUploader) Upload(ctx context.Context, key string, r io.Reader) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	b.keys = append(b.keys, key)
	_, err := io.Copy(io.Discard, r)
	return err
}

// TestFullQueueDropsInsteadOfBlocking stalls the writer and checks that Add
// returns at once and counts what it drops.
func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	up := &blockingUploader{entered: make(chan struct{}), release: make(chan struct{})}
	l, _ := Open(Options{Dir: t.TempDir(), SampleRate: 1, MaxFileBytes: 100, QueueSize: 5, Upload: up})
	l.Add(record(0))
	l.Add(record(1)) // rotates: the writer blocks in Upload
	<-up.entered
	start := time.Now()
	accepted := 0
	for i := range 50 {
		if l.Add(record(i)) {
			accepted++
		}
	}
	if time.Since(start) > time.Second {
		t.Errorf("Add waited %v with a stalled writer", time.Since(start))
	}
	if accepted > 5 || l.Dropped() != int64(50-accepted) {
		t.Errorf("accepted %d, dropped %d", accepted, l.Dropped())
	}
	close(up.release)
	l.Close()
	if len(up.keys) == 0 || !strings.HasPrefix(up.keys[0], "date="+time.Now().UTC().Format("2006-01-02")+"/predictions-") {
		t.Errorf("uploaded keys %v", up.keys)
	}
}

// TestShipsToS3 ships finished files to a real S3 server, under date= folders.
func TestShipsToS3(t *testing.T) {
	s3 := testenv.NewS3(t)
	store, err := objstore.Open(context.Background(), "s3://"+s3.Bucket+"/predictions", objstore.S3Options{
		Endpoint: s3.Endpoint, Region: s3.Region,
		PathStyle: true, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, _ := Open(Options{Dir: dir, SampleRate: 1, MaxFileBytes: 2000, Upload: store})
	for i := range 30 {
		l.Add(record(i))
	}
	l.Close()
	if left, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(left) != 0 {
		t.Errorf("shipped files left locally: %v", left)
	}
	client, _ := s3.Client()
	var lines int
	for obj := range client.ListObjects(context.Background(), s3.Bucket, minio.ListObjectsOptions{Prefix: "predictions/date=", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		o, err := client.GetObject(context.Background(), s3.Bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(o)
		lines += bytes.Count(data, []byte("\n"))
	}
	if lines != 30 {
		t.Errorf("%d records in S3, want 30", lines)
	}
}
