package storage_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// TestWatchAlias long-polls an alias: a watch with the current ETag is held
// and answered when the alias moves (through this replica, which wakes it at
// once, or through another replica over the same store, which it reads
// again every second), and answered "not changed" when its wait ends.
func TestWatchAlias(t *testing.T) {
	store := testenv.FolderStore(t, "")
	a := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
	b := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
	ctx := context.Background()
	for seed := range 3 {
		m := testenv.ModelBytes(t, testenv.AdderModel(t, float32(seed)))
		if _, err := a.Push(ctx, "watched", registry.PushRequest{Digest: registry.Digest(m)}, bytes.NewReader(m), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.SetAlias(ctx, "watched", "prod", 1, nil); err != nil {
		t.Fatal(err)
	}
	_, etag, _, err := a.AliasIfChanged(ctx, "watched", "prod", "")
	if err != nil {
		t.Fatal(err)
	}

	// Nothing moves: the watch waits its whole wait and says so.
	start := time.Now()
	if _, _, changed, err := a.WatchAlias(ctx, "watched", "prod", etag, 300*time.Millisecond); err != nil || changed || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("unchanged watch: changed %v, err %v, after %v", changed, err, time.Since(start))
	}
	for _, mover := range []struct {
		name    string
		client  *registry.Client
		version int
	}{{"this replica", a, 2}, {"another replica", b, 3}} {
		type answer struct {
			alias *registry.Alias
			etag  string
			err   error
			at    time.Time
		}
		got := make(chan answer, 1)
		go func() {
			al, e, changed, err := a.WatchAlias(ctx, "watched", "prod", etag, 30*time.Second)
			if err == nil && !changed {
				err = context.DeadlineExceeded
			}
			got <- answer{al, e, err, time.Now()}
		}()
		time.Sleep(100 * time.Millisecond) // the watch is waiting
		moved := time.Now()
		if _, err := mover.client.SetAlias(ctx, "watched", "prod", mover.version, nil); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil || r.alias.Version != mover.version || r.etag == etag {
			t.Fatalf("move through %s: %+v", mover.name, r)
		}
		t.Logf("move through %s answered the watch %v after the move", mover.name, r.at.Sub(moved).Round(time.Millisecond))
		etag = r.etag
	}
	if _, _, _, err := a.WatchAlias(ctx, "watched", "nope", "", time.Second); err == nil {
		t.Error("watching an alias that does not exist succeeded")
	}
}
