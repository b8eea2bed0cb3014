package serve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// TritonConfigFile is the name of a model's configuration in a Triton-layout repository.
const TritonConfigFile = "config.pbtxt"

// TritonModel is what a model folder's config.pbtxt says, as Kiln uses it.
type TritonModel struct {
	Config *grpcpb.ModelConfig
	// Settings are the Kiln settings it maps to; a model's own settings in
	// --config win over them, and they win over the defaults there.
	Settings ModelConfig
	// Warnings name each setting Kiln does not support (and so ignores).
	Warnings []string
}

// supportedConfig lists, per message, the config.pbtxt fields Kiln reads;
// any other field that is set gets a warning. Messages not listed are read whole.
var supportedConfig = map[protoreflect.FullName][]string{
	"inference.ModelConfig": {"name", "platform", "backend", "version_policy", "max_batch_size", "input", "output",
		"instance_group", "default_model_filename", "dynamic_batching", "parameters"},
	"inference.ModelDynamicBatching": {"max_queue_delay_microseconds", "default_queue_policy"},
	"inference.ModelQueuePolicy":     {"max_queue_size", "default_timeout_microseconds"},
	"inference.ModelInstanceGroup":   {"name", "count", "kind"},
	"inference.ModelInput":           {"name", "data_type", "dims"},
	"inference.ModelOutput":          {"name", "data_type", "dims"},
}

// Model parameters (config.pbtxt's parameters) that Kiln maps onto its settings.
const (
	paramIntraOpThreads = "intra_op_thread_count"
	paramInterOpThreads = "inter_op_thread_count"
)

// ReadTritonConfig reads DIR/NAME/config.pbtxt; it returns nil, nil when
// the folder has none.
func ReadTritonConfig(dir, name string) (*TritonModel, error) {
	path := filepath.Join(dir, name, TritonConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tm, err := parseTritonConfig(name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tm, nil
}

func parseTritonConfig(name string, data []byte) (*TritonModel, error) {
	tm := &TritonModel{Config: &grpcpb.ModelConfig{}}
	if err := prototext.Unmarshal(data, tm.Config); err != nil {
		// A field this version of the configuration does not know: read the
		// rest, and say which field was ignored.
		if !strings.Contains(err.Error(), "unknown field") {
			return nil, err
		}
		tm.Warnings = append(tm.Warnings, "ignored: "+err.Error())
		if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, tm.Config); err != nil {
			return nil, err
		}
	}
	c := tm.Config
	if c.Name != "" && c.Name != name {
		return nil, fmt.Errorf("name %q differs from the folder's name %q", c.Name, name)
	}
	if p := c.Platform; p != "" && p != "onnxruntime_onnx" {
		return nil, fmt.Errorf("platform %q: Kiln serves ONNX models (onnxruntime_onnx)", p)
	}
	if b := c.Backend; b != "" && b != "onnxruntime" {
		return nil, fmt.Errorf("backend %q: Kiln serves ONNX models (onnxruntime)", b)
	}
	tm.Warnings = append(tm.Warnings, unsupportedFields(c.ProtoReflect(), "")...)
	tm.Settings = tm.settings()
	for key := range c.Parameters {
		if key != paramIntraOpThreads && key != paramInterOpThreads {
			tm.Warnings = append(tm.Warnings, fmt.Sprintf("parameters.%s is not supported (Kiln reads %s and %s)", key, paramIntraOpThreads, paramInterOpThreads))
		}
	}
	for _, g := range c.InstanceGroup {
		if g.Kind == grpcpb.ModelInstanceGroup_KIND_GPU {
			tm.Warnings = append(tm.Warnings, "instance_group.kind KIND_GPU is not supported: instances run on the CPU")
		}
	}
	slices.Sort(tm.Warnings)
	return tm, nil
}

// unsupportedFields names the set fields of m (at path) that Kiln does not read.
func unsupportedFields(m protoreflect.Message, path string) []string {
	var out []string
	known, listed := supportedConfig[m.Descriptor().FullName()]
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := path + string(fd.Name())
		if listed && !slices.Contains(known, string(fd.Name())) {
			out = append(out, name+" is not supported")
			return true
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			for i := range v.List().Len() {
				out = append(out, unsupportedFields(v.List().Get(i).Message(), name+".")...)
			}
			return true
		}
		out = append(out, unsupportedFields(v.Message(), name+".")...)
		return true
	})
	return out
}

// settings maps the configuration onto Kiln's settings: dynamic_batching on
// or off (as in Triton, batching needs it and max_batch_size > 0), the
// batch size, queue delay and queue size, the request timeout, the number
// of instances, and ONNX Runtime's intra- and inter-op threads.
func (tm *TritonModel) settings() ModelConfig {
	c := tm.Config
	var s ModelConfig
	db := c.GetDynamicBatching()
	on := db != nil && c.MaxBatchSize > 0
	s.Batching.Enabled = &on
	if c.MaxBatchSize > 0 {
		s.Batching.MaxBatchSize = int(c.MaxBatchSize)
	}
	if db != nil {
		s.Batching.MaxQueueDelay = Duration(time.Duration(db.MaxQueueDelayMicroseconds) * time.Microsecond)
		s.Batching.MaxQueueSize = int(db.GetDefaultQueuePolicy().GetMaxQueueSize())
		s.RequestTimeout = Duration(time.Duration(db.GetDefaultQueuePolicy().GetDefaultTimeoutMicroseconds()) * time.Microsecond)
	}
	for _, g := range c.InstanceGroup {
		s.Batching.Instances += int(max(g.Count, 1))
	}
	for key, threads := range map[string]*int{paramIntraOpThreads: &s.IntraOpThreads, paramInterOpThreads: &s.InterOpThreads} {
		p, ok := c.Parameters[key]
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(p.StringValue); err == nil && n > 0 {
			*threads = n
		} else {
			tm.Warnings = append(tm.Warnings, fmt.Sprintf("parameters.%s %q is not a positive count", key, p.StringValue))
		}
	}
	return s
}

// FileName is the model file of each version folder: default_model_filename, or model.onnx.
func (tm *TritonModel) FileName() string {
	if tm != nil && tm.Config.DefaultModelFilename != "" {
		return tm.Config.DefaultModelFilename
	}
	return "model.onnx"
}

// Versions picks the versions to serve among those found (ascending), by
// version_policy: the latest N (1 by default, as in Triton), all, or
// specific ones. Without a configuration every version is served.
func (tm *TritonModel) Versions(found []int64) []int64 {
	if tm == nil {
		return found
	}
	p := tm.Config.GetVersionPolicy()
	switch {
	case p.GetAll() != nil:
		return found
	case p.GetSpecific() != nil:
		return slices.DeleteFunc(slices.Clone(found), func(v int64) bool { return !slices.Contains(p.GetSpecific().GetVersions(), v) })
	}
	n := max(int(p.GetLatest().GetNumVersions()), 1)
	return found[max(len(found)-n, 0):]
}

// Check compares the inputs and outputs the configuration lists (when it
// lists any) with those of the model: names, datatypes and dims (which
// leave out the batch dimension when max_batch_size > 0).
func (tm *TritonModel) Check(inputs, outputs []oip.TensorMetadata) error {
	batched := tm.Config.MaxBatchSize > 0
	check := func(kind, name string, dt grpcpb.DataType, dims []int64, model []oip.TensorMetadata) error {
		i := slices.IndexFunc(model, func(m oip.TensorMetadata) bool { return m.Name == name })
		if i < 0 {
			return fmt.Errorf("%s %s lists %s %q, which the model does not have", TritonConfigFile, kind, kind, name)
		}
		m := model[i]
		if want := tritonTypes[m.Datatype]; dt != want {
			return fmt.Errorf("%s %s %q: data_type %s, the model's is %s", TritonConfigFile, kind, name, dt, want)
		}
		shape := m.Shape
		if batched {
			if len(shape) == 0 || shape[0] >= 0 {
				return fmt.Errorf("%s: max_batch_size %d, but %s %q has no dynamic batch dimension (shape %v)", TritonConfigFile, tm.Config.MaxBatchSize, kind, name, shape)
			}
			shape = shape[1:]
		}
		if !dimsFit(dims, shape) {
			return fmt.Errorf("%s %s %q: dims %v do not fit the model's %v", TritonConfigFile, kind, name, dims, shape)
		}
		return nil
	}
	for _, in := range tm.Config.Input {
		if err := check("input", in.Name, in.DataType, in.Dims, inputs); err != nil {
			return err
		}
	}
	for _, out := range tm.Config.Output {
		if err := check("output", out.Name, out.DataType, out.Dims, outputs); err != nil {
			return err
		}
	}
	return nil
}

// dimsFit reports whether configured dims match a model shape; -1 on either side matches any size.
func dimsFit(dims, shape []int64) bool {
	if len(dims) != len(shape) {
		return false
	}
	for i := range dims {
		if dims[i] >= 0 && shape[i] >= 0 && dims[i] != shape[i] {
			return false
		}
	}
	return true
}
