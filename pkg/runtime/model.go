package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/onnx"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("model is closed")

// Options tune how a model's session is created.
type Options struct {
	// IntraOpThreads is the number of threads one Run may use; 0 means 1.
	// Parallelism comes from concurrent Runs rather than from threads inside one.
	IntraOpThreads int
	// LoneRunThreads, above IntraOpThreads, is how many threads a Run of a
	// costly model (one whose Runs take costlyRun or more on IntraOpThreads)
	// may use when no other Run is in flight. Once the model proves costly,
	// a second session with that many threads is made in the background to
	// answer such Runs, so a costly model's weights are in memory twice.
	LoneRunThreads int
	// InterOpThreads, above 1, runs independent branches of the graph in
	// parallel on that many threads (ONNX Runtime's parallel execution
	// mode); 0 or 1 runs the nodes one after another.
	InterOpThreads int
}

// DefaultThreads returns the thread settings for a model whose settings do
// not choose: one thread per Run, so that concurrent Runs do not share a
// core, and every core for a costly Run that finds no other in flight.
func DefaultThreads() Options {
	return Options{IntraOpThreads: 1, LoneRunThreads: goruntime.GOMAXPROCS(0)}
}

// Model is an ONNX model loaded into an ONNX Runtime session. Run may be
// called from many goroutines at once.
type Model struct {
	// Info is the parsed model file: signature, opsets, metadata.
	Info *onnx.Model

	session *ort.DynamicAdvancedSession // IntraOpThreads per Run
	// wide is the session of LoneRunThreads, made by makeWide once the
	// model's Runs prove costly; nil until then, and when there is none.
	wide       atomic.Pointer[ort.DynamicAdvancedSession]
	wideSpec   sessionSpec // wideSpec.threads is 0 when the model has no wide session
	wideOnce   sync.Once
	makingWide sync.WaitGroup
	running    atomic.Int32  // Runs in flight
	narrowRun  movingAverage // of a Run on session
	plan       *plan
	constants  constants
	allOutputs []int // 0..len(Info.Outputs)-1
	// noPreallocation is set once an output the plan took for [rows, ...]
	// turned out not to be: ONNX Runtime allocates the outputs from then on.
	noPreallocation atomic.Bool
	closeOnce       sync.Once
	// lifetime is held for reading by every Run and for writing by Close,
	// so Close waits for the Runs in flight.
	lifetime sync.RWMutex
	closed   bool
}

// Load reads the ONNX model file at path and creates its session.
func Load(path string, opts Options) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := loadBytes(data, opts, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// LoadBytes creates a session from the bytes of an ONNX model whose
// weights are all inside it.
func LoadBytes(data []byte, opts Options) (*Model, error) { return loadBytes(data, opts, "") }

// loadBytes creates a session from the bytes of a model read from folder
// dir ("" when it was not), where weights stored outside the model file are.
func loadBytes(data []byte, opts Options, dir string) (*Model, error) {
	info, err := onnx.Parse(data)
	if err != nil {
		return nil, err
	}
	p, err := adapt(info, data, localeAvailable)
	if err != nil {
		return nil, err
	}
	m := &Model{Info: info, plan: p, allOutputs: make([]int, len(p.outputs))}
	for i := range m.allOutputs {
		m.allOutputs[i] = i
	}
	spec := sessionSpec{threads: max(opts.IntraOpThreads, 1), inter: opts.InterOpThreads, dir: dir}
	if opts.LoneRunThreads > spec.threads {
		m.wideSpec = spec
		m.wideSpec.threads = opts.LoneRunThreads
	}
	if m.session, err = spec.newSession(p); err == nil {
		err = m.constants.make(p)
	}
	if err != nil {
		m.destroy()
		return nil, err
	}
	return m, nil
}

// sessionSpec is what a session is made with: intra-op and inter-op
// threads, and the folder of the model's external weights ("" for none).
type sessionSpec struct {
	threads, inter int
	dir            string
}

// newSession creates a session of the adapted model.
func (spec sessionSpec) newSession(p *plan) (*ort.DynamicAdvancedSession, error) {
	so, err := sessionOptions(spec.threads, spec.inter, spec.dir)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	session, err := ort.NewDynamicAdvancedSessionWithONNXData(p.data, p.sessionInputs, p.sessionOutputs, so)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return session, nil
}

func sessionOptions(threads, inter int, dir string) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	inter = max(inter, 1)
	for _, step := range []func() error{
		func() error { return so.SetIntraOpNumThreads(threads) },
		func() error { return so.SetInterOpNumThreads(inter) },
		func() error {
			if inter == 1 {
				return nil
			}
			return so.SetExecutionMode(ort.ExecutionModeParallel)
		},
		func() error { return so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0") },
		func() error { return so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0") },
		func() error {
			if dir == "" {
				return nil
			}
			// The session is made from bytes: say where external data lives.
			return so.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", dir)
		},
	} {
		if err := step(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}

// Close waits for the Runs in flight, then destroys the session.
func (m *Model) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.lifetime.Lock()
		defer m.lifetime.Unlock()
		m.closed = true
		m.makingWide.Wait()
		err = m.destroy()
	})
	return err
}

// destroy destroys the sessions and constants made so far.
func (m *Model) destroy() error {
	var err error
	for _, s := range []*ort.DynamicAdvancedSession{m.session, m.wide.Load()} {
		if s != nil {
			err = errors.Join(err, s.Destroy())
		}
	}
	m.constants.destroy()
	return err
}
