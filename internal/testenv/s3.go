// Package testenv starts the real servers that tests and benchmarks need.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// VersityGWVersion is the versitygw release the S3 helpers install.
const VersityGWVersion = "v1.8.0"

// S3 describes a running S3 server with one empty bucket.
type S3 struct {
	// Endpoint is the server's URL, e.g. "http://127.0.0.1:40123".
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
}

// Client returns a minio-go client for the server.
func (s *S3) Client() (*minio.Client, error) {
	return minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
}

// CacheDir is where helper binaries are installed: $KILN_CACHE, else
// $HOME/.cache/kiln.
func CacheDir() (string, error) {
	if d := os.Getenv("KILN_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set KILN_CACHE: %w", err)
	}
	return filepath.Join(home, ".cache", "kiln"), nil
}

// InstallVersityGW returns the path of the versitygw binary, installing it
// with `go install` into the cache (one folder per version) when missing.
func InstallVersityGW(ctx context.Context) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	bindir := filepath.Join(cache, "versitygw", VersityGWVersion)
	bin := filepath.Join(bindir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/versity/versitygw/cmd/versitygw@"+VersityGWVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bindir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("install versitygw %s (needs the Go module proxy) failed: %w\n%s", VersityGWVersion, err, out)
	}
	return bin, nil
}

// StartS3 installs versitygw if needed and starts it on a free loopback port
// with its posix backend over dir (which must support extended attributes,
// as /tmp does), then creates a bucket. stop ends the server.
func StartS3(ctx context.Context, dir string) (s3 *S3, stop func(), err error) {
	bin, err := InstallVersityGW(ctx)
	if err != nil {
		return nil, nil, err
	}
	root := filepath.Join(dir, "gateway")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, nil, err
	}
	s3 = &S3{AccessKey: "kilnaccess", SecretKey: "kilnsecret", Region: "us-east-1", Bucket: "kiln"}
	var lastErr error
	for range 3 { // a free port can be taken between probing and listening
		var port int
		if port, err = freePort(); err != nil {
			return nil, nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		var logs bytes.Buffer
		cmd := exec.Command(bin, "--access", s3.AccessKey, "--secret", s3.SecretKey, "--region", s3.Region, "--port", addr, "--quiet", "posix", root)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("start versitygw: %w", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop = func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		if lastErr = waitListening(ctx, addr, exited); lastErr != nil {
			stop()
			lastErr = fmt.Errorf("versitygw on %s: %w\n%s", addr, lastErr, logs.String())
			continue
		}
		s3.Endpoint = "http://" + addr
		if err := createBucket(ctx, s3); err != nil {
			stop()
			return nil, nil, err
		}
		return s3, stop, nil
	}
	return nil, nil, lastErr
}

// NewS3 starts versitygw for the test over a temporary folder and stops it
// when the test ends. It fails the test (never skips) when the server cannot
// be installed or started.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	s3, stop, err := StartS3(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("S3 test server: %v", err)
	}
	t.Cleanup(stop)
	return s3
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening polls addr until it accepts connections, the process exits,
// or 60 seconds pass.
func waitListening(ctx context.Context, addr string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for delay := 10 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 500*time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before listening: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
	return errors.New("not listening after 60s")
}

func createBucket(ctx context.Context, s3 *S3) error {
	client, err := s3.Client()
	if err != nil {
		return err
	}
	if err := client.MakeBucket(ctx, s3.Bucket, minio.MakeBucketOptions{Region: s3.Region}); err != nil {
		return fmt.Errorf("create bucket %s on %s: %w", s3.Bucket, s3.Endpoint, err)
	}
	return nil
}
