package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
)

// TestLoneRunThreads checks which session answers a Run: the one-thread
// session while the model's Runs are cheap or another Run is in flight;
// a costly model's Run alone makes the wide session in the background and
// then takes it; both answer alike.
func TestLoneRunThreads(t *testing.T) {
	if err := Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	m, err := Load(testenv.WriteModel(t, testenv.SlowModel(t, 4)), Options{IntraOpThreads: 1, LoneRunThreads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := make([]float32, 3*1024)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	input := []*oip.Tensor{oip.NewTensor("x", []int64{3, 1024}, x)}

	narrow, err := m.Run(context.Background(), input, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.narrowRun.get(); got <= 0 {
		t.Fatalf("one-thread Run time kept as %v", got)
	}
	if m.wide.Load() != nil {
		t.Fatal("a wide session was made before the model's Runs were known to be costly")
	}

	m.narrowRun.ns.Store(int64(costlyRun))
	if s, _ := m.pickSession(); s != m.session {
		t.Error("a Run took a wide session that was not made yet")
	}
	m.ranSession(time.Time{})
	testenv.Eventually(t, 30*time.Second, func() bool { return m.wide.Load() != nil }, func() string { return "the wide session made" })
	if s, start := m.pickSession(); s != m.wide.Load() || !start.IsZero() {
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
	if m.narrowRun.get() != costlyRun {
		t.Error("a Run on the wide session changed the one-thread Run time")
	}
	for i := range wide {
		if err := testenv.SameTensor(wide[i], narrow[i]); err != nil {
			t.Error(err)
		}
	}
}

// TestCheapModelMakesNoWideSession checks that a model whose Runs are cheap
// keeps one session (its weights in memory once).
func TestCheapModelMakesNoWideSession(t *testing.T) {
	if err := Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	m, err := Load(testenv.WriteModel(t, testenv.AdderModel(t, 1)), DefaultThreads())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in := []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{1, 2})}
	for range 100 {
		if _, err := m.Run(context.Background(), in, nil); err != nil {
			t.Fatal(err)
		}
	}
	m.makingWide.Wait() // a wide session started would be there now
	if m.wide.Load() != nil {
		t.Errorf("a model of %v Runs made a wide session", m.narrowRun.get())
	}
}
