// Package predlog keeps a sampled log of predictions as JSON lines in
// rotating local files, optionally shipped to object storage, without ever
// making a request wait: records go through a bounded queue that drops (and
// counts) what it cannot take.
package predlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
)

// Record is one logged prediction.
type Record struct {
	Time           time.Time     `json:"time"`
	RequestID      string        `json:"request_id,omitempty"`
	Model          string        `json:"model"`
	Version        string        `json:"version"`
	Inputs         []*oip.Tensor `json:"inputs"`
	Outputs        []*oip.Tensor `json:"outputs"`
	LatencySeconds float64       `json:"latency_seconds"`
}

// Uploader stores a finished log file under key (an objstore.Bucket does).
type Uploader interface {
	Upload(ctx context.Context, key string, r io.Reader) error
}

// Options configure a Log. Zero values take the defaults.
type Options struct {
	// Dir holds the log files.
	Dir string
	// SampleRate is the share of predictions logged, in (0, 1]; default 0.01.
	SampleRate float64
	// MaxFileBytes starts a new file beyond this size; default 64 MiB.
	MaxFileBytes int64
	// MaxFiles keeps at most this many finished files locally when there is
	// no Uploader; default 10.
	MaxFiles int
	// QueueSize is how many records may wait to be written; default 10000.
	QueueSize int
	// Upload, when set, ships each finished file to date=YYYY-MM-DD/NAME and
	// removes it locally once stored.
	Upload Uploader
	Logger *slog.Logger
}

// Log is a prediction log. Add is safe from many goroutines.
type Log struct {
	opts    Options
	queue   chan *Record
	done    chan struct{}
	dropped atomic.Int64
	written atomic.Int64

	file    *os.File
	buf     *bufio.Writer
	size    int64
	started time.Time
}

const openSuffix = ".jsonl.open"

// Open starts a log writing into opts.Dir.
func Open(opts Options) (*Log, error) {
	if opts.SampleRate <= 0 || opts.SampleRate > 1 {
		opts.SampleRate = 0.01
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 64 << 20
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 10
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("prediction log: %w", err)
	}
	l := &Log{opts: opts, queue: make(chan *Record, opts.QueueSize), done: make(chan struct{})}
	l.finishLeftovers()
	go l.write()
	return l, nil
}

// Sampled says whether the next prediction should be logged.
func (l *Log) Sampled() bool { return l.opts.SampleRate >= 1 || rand.Float64() < l.opts.SampleRate }

// Add queues a record without waiting; when the queue is full the record is
// dropped, counted, and Add returns false.
func (l *Log) Add(r *Record) bool {
	select {
	case l.queue <- r:
		return true
	default:
		l.dropped.Add(1)
		return false
	}
}

// Dropped returns how many records the full queue refused.
func (l *Log) Dropped() int64 { return l.dropped.Load() }

// Written returns how many records reached a file.
func (l *Log) Written() int64 { return l.written.Load() }

// Close writes every queued record, finishes the current file (shipping it
// when an Uploader is set) and stops. Add must not be called after Close.
func (l *Log) Close() error {
	close(l.queue)
	<-l.done
	return nil
}

// write is the log's single writer goroutine.
func (l *Log) write() {
	defer close(l.done)
	for r := range l.queue {
		line, err := json.Marshal(r)
		if err != nil {
			l.opts.Logger.Error("prediction log: record not encodable", "model", r.Model, "err", err)
			continue
		}
		if err := l.append(append(line, '\n')); err != nil {
			l.opts.Logger.Error("prediction log: write failed", "err", err)
			continue
		}
		l.written.Add(1)
	}
	if err := l.finish(); err != nil {
		l.opts.Logger.Error("prediction log: finishing the last file failed", "err", err)
	}
}

func (l *Log) append(line []byte) error {
	if l.file != nil && l.size+int64(len(line)) > l.opts.MaxFileBytes {
		if err := l.finish(); err != nil {
			return err
		}
	}
	if l.file == nil {
		l.started = time.Now().UTC()
		// The nanoseconds are zero-padded so that names sort in time order,
		// which rotation and shipping rely on.
		name := filepath.Join(l.opts.Dir, fmt.Sprintf("predictions-%s-%09d%s", l.started.Format("20060102T150405Z"), l.started.Nanosecond(), openSuffix))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		l.file, l.buf, l.size = f, bufio.NewWriterSize(f, 256<<10), 0
	}
	n, err := l.buf.Write(line)
	l.size += int64(n)
	return err
}

// finish flushes and closes the current file, renames it to its final
// .jsonl name, and ships or prunes finished files.
func (l *Log) finish() error {
	if l.file == nil {
		return nil
	}
	err := l.buf.Flush()
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	open := l.file.Name()
	l.file, l.buf = nil, nil
	if err != nil {
		return err
	}
	if err := os.Rename(open, strings.TrimSuffix(open, openSuffix)+".jsonl"); err != nil {
		return err
	}
	l.settle()
	return nil
}

// finishLeftovers completes files left open by a process that stopped
// without closing its log.
func (l *Log) finishLeftovers() {
	open, _ := filepath.Glob(filepath.Join(l.opts.Dir, "*"+openSuffix))
	for _, name := range open {
		os.Rename(name, strings.TrimSuffix(name, openSuffix)+".jsonl")
	}
	l.settle()
}

// settle ships finished files when an Uploader is set, else keeps the newest MaxFiles.
func (l *Log) settle() {
	finished, _ := filepath.Glob(filepath.Join(l.opts.Dir, "predictions-*.jsonl"))
	slices.Sort(finished)
	if l.opts.Upload == nil {
		for len(finished) > l.opts.MaxFiles {
			os.Remove(finished[0])
			finished = finished[1:]
		}
		return
	}
	for _, name := range finished {
		if err := l.ship(name); err != nil {
			l.opts.Logger.Warn("prediction log: upload failed; the file stays and is retried with the next one", "file", name, "err", err)
			return
		}
		os.Remove(name)
	}
}

func (l *Log) ship(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	base := filepath.Base(name)
	day, err := time.Parse("20060102", strings.TrimPrefix(base, "predictions-")[:8])
	if err != nil {
		return fmt.Errorf("%s: not a prediction log file name", base)
	}
	key := "date=" + day.Format("2006-01-02") + "/" + base
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return l.opts.Upload.Upload(ctx, key, f)
}
