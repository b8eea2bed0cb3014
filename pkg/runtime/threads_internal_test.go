package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
)

// TestLoneRunThreads checks which session answers a Run: the one-thread
// session while the model's Runs are cheap or another Run is in flight,
// the wide one for a costly model's Run alone; both answer alike.
func TestLoneRunThreads(t *testing.T) {
	if err := Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	m, err := Load(testenv.WriteModel(t, testenv.SlowModel(t, 4)), Options{IntraOpThreads: 1, LoneRunThreads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.wide == nil {
		t.Fatal("LoneRunThreads 2 made no second session")
	}
	x := make([]float32, 3*1024)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	input := []*oip.Tensor{oip.NewTensor("x", []int64{3, 1024}, x)}

	cheap, _ := m.pickSession()
	m.ranSession(time.Now())
	if cheap != m.session {
		t.Fatal("a model of unknown cost ran on the wide session")
	}
	narrow, err := m.Run(context.Background(), input, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(m.narrowRun.Load()); got <= 0 {
		t.Fatalf("one-thread Run time kept as %v", got)
	}

	m.narrowRun.Store(int64(costlyRun))
	if s, start := m.pickSession(); s != m.wide || !start.IsZero() {
		t.Error("a costly model's Run alone did not take the wide session")
	} else if other, _ := m.pickSession(); other != m.session {
		t.Error("a Run beside another in flight took the wide session")
	}
	m.ranSession(time.Time{})
	m.ranSession(time.Time{})
	if n := m.running.Load(); n != 0 {
		t.Fatalf("%d Runs counted in flight after both ended", n)
	}
	wide, err := m.Run(context.Background(), input, nil)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(m.narrowRun.Load()) != costlyRun {
		t.Error("a Run on the wide session changed the one-thread Run time")
	}
	for i := range wide {
		if err := testenv.SameTensor(wide[i], narrow[i]); err != nil {
			t.Error(err)
		}
	}
}
