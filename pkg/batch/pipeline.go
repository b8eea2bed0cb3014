package batch

import (
	"context"
	"errors"
	"io"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kilnml/kiln/pkg/table"
)

// pipeline reads chunks of rows in order, scores (and, with an encoder,
// encodes) them on several workers and hands them to a sink in input order.
type pipeline struct {
	src       *table.Source
	sc        *scorer
	batchSize int
	// batches is the number of batches of the shard in one chunk (at least 1).
	batches int
	workers int
	shard   Shard
	// enc, when set, encodes each chunk on the worker that scored it.
	enc *chunkEncoder
	// next is the input row number of the next row src returns.
	next int64
}

// run feeds the whole input through the scorer and calls sink on each
// chunk, in order, from the calling goroutine.
func (p *pipeline) run(ctx context.Context, sink func(*chunk) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g, gctx := errgroup.WithContext(ctx)
	workers := max(p.workers, 1)
	work := make(chan *chunk, workers)
	results := make(chan *chunk, workers)
	slots := make(chan struct{}, 2*workers+1) // chunks between reading and the sink

	g.Go(func() error {
		defer close(work)
		return p.read(gctx, work, slots)
	})
	var scoring sync.WaitGroup // the workers, which send to results
	for range workers {
		scoring.Add(1)
		g.Go(func() error {
			defer scoring.Done()
			for c := range work {
				if err := p.process(gctx, c); err != nil {
					return err
				}
				select {
				case results <- c:
				case <-gctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	go func() {
		scoring.Wait()
		close(results)
	}()

	if err := deliver(gctx, results, slots, sink); err != nil {
		cancel(err)
	}
	werr := g.Wait()
	if err := context.Cause(ctx); err != nil {
		return err // the sink failed, or the caller gave up
	}
	return werr
}

// deliver hands the scored chunks to sink in input order, freeing a slot
// for each, until results is closed, sink fails or ctx is done.
func deliver(ctx context.Context, results <-chan *chunk, slots <-chan struct{}, sink func(*chunk) error) error {
	pending := map[int64]*chunk{}
	var want int64
	for c := range results {
		pending[c.seq] = c
		for pending[want] != nil {
			next := pending[want]
			delete(pending, want)
			want++
			if err := sink(next); err != nil {
				return err
			}
			<-slots
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// process scores a chunk and encodes it when the pipeline has an encoder.
func (p *pipeline) process(ctx context.Context, c *chunk) error {
	if err := p.sc.score(ctx, c, p.batchSize); err != nil {
		return err
	}
	if p.enc == nil {
		return nil
	}
	if err := p.enc.encode(c); err != nil {
		return err
	}
	c.out = nil
	return nil
}

// read cuts the input into chunks of batches*batchSize rows of the shard.
func (p *pipeline) read(ctx context.Context, work chan<- *chunk, slots chan struct{}) error {
	per := p.batchSize * max(p.shard.Count, 1) * max(p.batches, 1)
	for seq := int64(0); ; seq++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		t, err := p.src.ReadTable(per)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		c := &chunk{seq: seq, first: p.next, end: p.next + int64(t.Len()), fraction: p.src.Fraction()}
		var shard []int
		c.index = make([]int64, 0, t.Len()/max(p.shard.Count, 1)+1)
		for i := range t.Len() {
			if n := p.next + int64(i); p.shard.Has(n) {
				c.index = append(c.index, n)
				if p.shard.Count > 1 {
					shard = append(shard, i)
				}
			}
		}
		if p.shard.Count > 1 {
			t = t.Pick(shard)
		}
		c.in, c.errs = t, t.Errs()
		p.next = c.end
		if err := p.sc.prepare(c); err != nil {
			return err
		}
		if p.enc != nil {
			p.enc.settle(c)
		}
		if c.end > c.first || seq == 0 {
			select {
			case work <- c:
			case <-ctx.Done():
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}
