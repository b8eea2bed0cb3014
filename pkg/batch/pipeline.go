package batch

import (
	"context"
	"errors"
	"io"
	"sync"

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
	workers := max(p.workers, 1)
	work := make(chan *chunk, workers)
	results := make(chan *chunk, workers)
	slots := make(chan struct{}, 2*workers+1) // chunks between reading and the sink

	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(work)
		if err := p.read(ctx, work, slots); err != nil {
			cancel(err)
		}
	})
	var scoring sync.WaitGroup
	for range workers {
		scoring.Go(func() {
			for c := range work {
				if err := p.process(ctx, c); err != nil {
					cancel(err)
					return
				}
				select {
				case results <- c:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		scoring.Wait()
		close(results)
	}()

	pending := map[int64]*chunk{}
	var want int64
	for c := range results {
		pending[c.seq] = c
		for pending[want] != nil {
			next := pending[want]
			delete(pending, want)
			want++
			if err := sink(next); err != nil {
				cancel(err)
				break
			}
			<-slots
		}
		if ctx.Err() != nil {
			break
		}
	}
	err := context.Cause(ctx)
	cancel(nil)
	for range results {
	}
	wg.Wait()
	return err
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
