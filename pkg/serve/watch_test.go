package serve_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestFollowerWatchesAlias follows an alias with a poll interval of an
// hour: only the watch (the registry's long poll) can bring the move in time.
func TestFollowerWatchesAlias(t *testing.T) {
	_, client := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushAdder(t, client, "adder", 1, goodExample)
	pushAdder(t, client, "adder", 2, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	cache, err := serve.OpenCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	defer models.Close()
	ref, _ := registry.ParseRef("adder@production")
	f := serve.NewFollower(ref, client, cache, models, serve.FollowOptions{PollInterval: time.Hour, Watch: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitVersion(t, models, 1)
	time.Sleep(50 * time.Millisecond) // the follower is watching
	moved := time.Now()
	if _, err := client.SetAlias(ctx, "adder", "production", 2, nil); err != nil {
		t.Fatal(err)
	}
	waitVersion(t, models, 2)
	st, _ := models.Status("adder")
	t.Logf("move to first answer from version 2: %v (detect %v, download %v, load %v, warm-up %v)", time.Since(moved).Round(time.Millisecond),
		st.LastSwap.Detect.Round(time.Microsecond), st.LastSwap.Download.Round(time.Microsecond), st.LastSwap.Load.Round(time.Microsecond), st.LastSwap.Warmup.Round(time.Microsecond))
}
