package testenv

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestS3ServesObjects(t *testing.T) {
	s3 := NewS3(t)
	client, err := s3.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := []byte("hello from versitygw")
	if _, err := client.PutObject(ctx, s3.Bucket, "a/b.txt", bytes.NewReader(want), int64(len(want)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := client.GetObject(ctx, s3.Bucket, "a/b.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %q, %v; want %q", got, err, want)
	}
}
