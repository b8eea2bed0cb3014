package serve

import (
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// tritonTypes maps OIP datatypes to the model configuration's data types.
var tritonTypes = map[oip.Datatype]grpcpb.DataType{
	oip.Bool: grpcpb.DataType_TYPE_BOOL, oip.Uint8: grpcpb.DataType_TYPE_UINT8, oip.Uint16: grpcpb.DataType_TYPE_UINT16,
	oip.Uint32: grpcpb.DataType_TYPE_UINT32, oip.Uint64: grpcpb.DataType_TYPE_UINT64, oip.Int8: grpcpb.DataType_TYPE_INT8,
	oip.Int16: grpcpb.DataType_TYPE_INT16, oip.Int32: grpcpb.DataType_TYPE_INT32, oip.Int64: grpcpb.DataType_TYPE_INT64,
	oip.FP16: grpcpb.DataType_TYPE_FP16, oip.FP32: grpcpb.DataType_TYPE_FP32, oip.FP64: grpcpb.DataType_TYPE_FP64,
	oip.Bytes: grpcpb.DataType_TYPE_STRING, oip.BF16: grpcpb.DataType_TYPE_BF16,
}

// modelConfig describes a served version as Triton's model configuration:
// with batching on, max_batch_size is the batcher's largest batch and dims
// leave out the batch dimension, as Triton does.
func modelConfig(v *Version) *grpcpb.ModelConfig {
	opts := v.batcher.Options()
	cfg := &grpcpb.ModelConfig{
		Name:          v.Model,
		Platform:      "onnxruntime_onnx",
		Backend:       "onnxruntime",
		InstanceGroup: []*grpcpb.ModelInstanceGroup{{Name: v.Model, Count: int32(opts.Instances), Kind: grpcpb.ModelInstanceGroup_KIND_CPU}},
		VersionPolicy: &grpcpb.ModelVersionPolicy{PolicyChoice: &grpcpb.ModelVersionPolicy_Specific_{Specific: &grpcpb.ModelVersionPolicy_Specific{Versions: []int64{v.Number}}}},
	}
	batched := v.batcher.Batching()
	// dims leave out the batch dimension; an output that has no other is
	// [1], reshaped to [] (Triton's way of writing it; an input keeps [],
	// as it takes [N], not [N, 1]).
	dims := func(shape []int64, output bool) ([]int64, *grpcpb.ModelTensorReshape) {
		switch {
		case batched && output && len(shape) == 1:
			return []int64{1}, &grpcpb.ModelTensorReshape{}
		case batched && len(shape) > 0:
			return shape[1:], nil
		}
		return shape, nil
	}
	if batched {
		cfg.MaxBatchSize = int32(opts.MaxBatchSize)
		cfg.SchedulingChoice = &grpcpb.ModelConfig_DynamicBatching{DynamicBatching: &grpcpb.ModelDynamicBatching{
			MaxQueueDelayMicroseconds: uint64(opts.MaxQueueDelay / time.Microsecond),
			DefaultQueuePolicy:        &grpcpb.ModelQueuePolicy{MaxQueueSize: uint32(opts.MaxQueueSize)},
		}}
	}
	for _, in := range v.Inputs {
		d, reshape := dims(in.Shape, false)
		cfg.Input = append(cfg.Input, &grpcpb.ModelInput{Name: in.Name, DataType: tritonTypes[in.Datatype], Dims: d, Reshape: reshape})
	}
	for _, out := range v.Outputs {
		d, reshape := dims(out.Shape, true)
		cfg.Output = append(cfg.Output, &grpcpb.ModelOutput{Name: out.Name, DataType: tritonTypes[out.Datatype], Dims: d, Reshape: reshape})
	}
	return cfg
}

// protoJSON renders a message the way Triton's REST API renders model
// configurations: proto field names, enums by name, and 64-bit integers as
// JSON numbers (protojson would quote them).
func protoJSON(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(fd.Name())] = fieldJSON(fd, v)
		return true
	})
	return out
}

func fieldJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		list := v.List()
		items := make([]any, list.Len())
		for i := range items {
			items[i] = scalarJSON(fd, list.Get(i))
		}
		return items
	case fd.IsMap():
		entries := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			entries[k.String()] = scalarJSON(fd.MapValue(), mv)
			return true
		})
		return entries
	}
	return scalarJSON(fd, v)
}

func scalarJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoJSON(v.Message())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int32(v.Enum())
	}
	return v.Interface()
}
