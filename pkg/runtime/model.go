package runtime

import (
	"errors"
	"fmt"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("model is closed")

// Options tune how a model's session is created.
type Options struct {
	// IntraOpThreads is the number of threads one Run may use; 0 means 1.
	// Parallelism comes from concurrent Runs rather than from threads inside one.
	IntraOpThreads int
}

// Model is an ONNX model loaded into an ONNX Runtime session. Run may be
// called from many goroutines at once.
type Model struct {
	// Info is the parsed model file: signature, opsets, metadata.
	Info *onnx.Model

	session     *ort.DynamicAdvancedSession
	outputNames []string
	allOutputs  []int // 0..len(outputNames)-1
	// halfOutputs maps the index of each FP16 or BF16 output to its type: the
	// session computes those as FP32 (see widenHalfOutputs).
	halfOutputs map[int]oip.Datatype
	closeOnce   sync.Once
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
	m, err := LoadBytes(data, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// LoadBytes creates a session from the bytes of an ONNX model.
func LoadBytes(data []byte, opts Options) (*Model, error) {
	info, err := onnx.Parse(data)
	if err != nil {
		return nil, err
	}
	data, halfOutputs, err := widenHalfOutputs(info, data)
	if err != nil {
		return nil, err
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	inputs := valueNames(info.Inputs)
	outputs := valueNames(info.Outputs)
	session, err := ort.NewDynamicAdvancedSessionWithONNXData(data, inputs, outputs, so)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	all := make([]int, len(outputs))
	for i := range all {
		all[i] = i
	}
	return &Model{Info: info, session: session, outputNames: outputs, allOutputs: all, halfOutputs: halfOutputs}, nil
}

// widenHalfOutputs makes the session return FP16 and BF16 outputs as FP32:
// onnxruntime_go v1.27.0 copies only half the bytes of 16-bit float outputs
// it allocates. Both types widen to FP32 exactly and narrow back exactly.
func widenHalfOutputs(info *onnx.Model, data []byte) ([]byte, map[int]oip.Datatype, error) {
	half := map[int]oip.Datatype{}
	var names []string
	for i, o := range info.Outputs {
		if o.Type.IsTensor() && (o.Type.Elem == onnx.Float16 || o.Type.Elem == onnx.BFloat16) {
			half[i] = o.Type.Elem.OIP()
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		return data, nil, nil
	}
	widened, err := info.CastOutputs(names, onnx.Float)
	return widened, half, err
}

func sessionOptions(opts Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	threads := opts.IntraOpThreads
	if threads <= 0 {
		threads = 1
	}
	for _, step := range []func() error{
		func() error { return so.SetIntraOpNumThreads(threads) },
		func() error { return so.SetInterOpNumThreads(1) },
		func() error { return so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0") },
		func() error { return so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0") },
	} {
		if err := step(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}

func valueNames(vs []onnx.ValueInfo) []string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Name
	}
	return names
}

// Close waits for the Runs in flight, then destroys the session.
func (m *Model) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.lifetime.Lock()
		defer m.lifetime.Unlock()
		m.closed = true
		err = m.session.Destroy()
	})
	return err
}
