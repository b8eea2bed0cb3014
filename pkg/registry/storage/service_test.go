package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

func TestPushShowPull(t *testing.T) {
	backends(t, func(t *testing.T, store storage.Store) {
		ctx := context.Background()
		client := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
		model := testenv.ModelBytes(t, testenv.AdderModel(t, 1))
		profile := []byte(`{"features":{"x":{"mean":0.5}}}`)
		req := registry.PushRequest{
			Digest:                 registry.Digest(model),
			Description:            "adds one",
			Metrics:                map[string]float64{"accuracy": 0.93},
			Params:                 map[string]string{"lr": "0.1"},
			Tags:                   map[string]string{"team": "fraud"},
			Lineage:                registry.Lineage{SourceRun: "run-42", DatasetDigest: "sha256:abc", GitCommit: "deadbeef"},
			InputExample:           json.RawMessage(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`),
			ReferenceProfileDigest: registry.Digest(profile),
		}
		v, err := client.Push(ctx, "adder", req, bytes.NewReader(model), bytes.NewReader(profile))
		if err != nil {
			t.Fatal(err)
		}
		if v.Version != 1 || v.Digest != req.Digest || v.Size != int64(len(model)) {
			t.Fatalf("pushed %+v", v)
		}
		want := registry.Signature{
			Inputs:  []registry.TensorSpec{{Name: "x", Type: "tensor(float)[?,2]", Datatype: "FP32", Shape: []int64{-1, 2}}},
			Outputs: []registry.TensorSpec{{Name: "y", Type: "tensor(float)[?,2]", Datatype: "FP32", Shape: []int64{-1, 2}}},
		}
		if !reflect.DeepEqual(v.Signature, want) {
			t.Errorf("signature %+v, want %+v", v.Signature, want)
		}
		if v.Format.Opsets["ai.onnx"] != 17 || v.Lineage.CreatedBy != "anonymous" || v.Lineage.CreatedAt.IsZero() || v.Lineage.SourceRun != "run-42" {
			t.Errorf("format %+v lineage %+v", v.Format, v.Lineage)
		}
		if v.ReferenceProfile == nil || v.ReferenceProfile.Size != int64(len(profile)) {
			t.Errorf("reference profile %+v", v.ReferenceProfile)
		}

		shown, err := client.Resolve(ctx, registry.Ref{Name: "adder", Version: 1})
		if err != nil || !reflect.DeepEqual(shown.Metrics, req.Metrics) || string(shown.InputExample) != string(req.InputExample) {
			t.Fatalf("show: %+v, %v", shown, err)
		}
		var buf bytes.Buffer
		if _, err := client.Download(ctx, registry.Ref{Name: "adder", Version: 1}, &buf); err != nil || !bytes.Equal(buf.Bytes(), model) {
			t.Fatalf("pull: %d bytes, %v", buf.Len(), err)
		}

		// Metrics and tags can be added later; the artifact stays the same.
		u, err := client.UpdateVersion(ctx, "adder", 1, registry.VersionUpdate{Metrics: map[string]float64{"f1": 0.9}, Tags: map[string]string{"stage": "eval"}})
		if err != nil || u.Metrics["f1"] != 0.9 || u.Metrics["accuracy"] != 0.93 || u.Tags["stage"] != "eval" || u.Digest != v.Digest {
			t.Fatalf("update: %+v, %v", u, err)
		}
		events, err := client.ListEvents(ctx, "adder", registry.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range events.Events {
			types = append(types, e.Type)
		}
		if want := []string{registry.EventPush, registry.EventVersionUpdate}; !reflect.DeepEqual(types, want) {
			t.Errorf("events %v, want %v", types, want)
		}
	})
}

func TestConcurrentPushesGetConsecutiveVersions(t *testing.T) {
	backends(t, func(t *testing.T, store storage.Store) {
		ctx := context.Background()
		client := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
		const n = 16
		models := make([][]byte, n)
		versions := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			models[i] = testenv.ModelBytes(t, testenv.AdderModel(t, float32(i)))
			wg.Go(func() {
				v, err := client.Push(ctx, "busy", registry.PushRequest{Digest: registry.Digest(models[i])}, bytes.NewReader(models[i]), nil)
				if err != nil {
					t.Error(err)
					return
				}
				versions[i] = v.Version
			})
		}
		wg.Wait()
		seen := map[int]bool{}
		for i, v := range versions {
			if v < 1 || v > n || seen[v] {
				t.Fatalf("versions %v: not 16 distinct numbers from 1 to 16", versions)
			}
			seen[v] = true
			var buf bytes.Buffer
			if _, err := client.Download(ctx, registry.Ref{Name: "busy", Version: v}, &buf); err != nil || !bytes.Equal(buf.Bytes(), models[i]) {
				t.Fatalf("pull busy@%d: %v; identical %v", v, err, bytes.Equal(buf.Bytes(), models[i]))
			}
		}
		list, err := client.ListVersions(ctx, "busy", registry.Page{Size: 10})
		if err != nil || len(list.Versions) != 10 || list.NextPageToken == "" {
			t.Fatalf("first page: %d versions, token %q, %v", len(list.Versions), list.NextPageToken, err)
		}
		rest, err := client.ListVersions(ctx, "busy", registry.Page{Size: 10, Token: list.NextPageToken})
		if err != nil || len(rest.Versions) != 6 || rest.Versions[0].Version != 11 || rest.NextPageToken != "" {
			t.Fatalf("second page: %+v, %v", rest, err)
		}
	})
}

func TestConcurrentAliasMovesLoseNoUpdate(t *testing.T) {
	backends(t, func(t *testing.T, store storage.Store) {
		ctx := context.Background()
		client := testenv.StartRegistry(t, store, storage.Options{}, server.Options{}).Client("")
		const movers = 8
		for i := range movers {
			if _, err := client.Push(ctx, "m", registry.PushRequest{Digest: registry.Digest(testenv.ModelBytes(t, testenv.AdderModel(t, float32(i))))}, bytes.NewReader(testenv.ModelBytes(t, testenv.AdderModel(t, float32(i)))), nil); err != nil {
				t.Fatal(err)
			}
		}
		// Each mover moves "prod" to its own version, expecting the version it
		// last saw, and retries on conflict.
		var wg sync.WaitGroup
		for i := range movers {
			wg.Go(func() {
				for {
					current := 0
					if a, err := client.GetAlias(ctx, "m", "prod"); err == nil {
						current = a.Version
					} else if !errors.Is(err, registry.ErrNotFound) {
						t.Error(err)
						return
					}
					_, err := client.SetAlias(ctx, "m", "prod", i+1, &current)
					if err == nil {
						return
					}
					if !errors.Is(err, registry.ErrConflict) {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		events, err := client.ListEvents(ctx, "m", registry.Page{})
		if err != nil {
			t.Fatal(err)
		}
		// The moves form one chain: each starts where the previous ended.
		from, moved := 0, map[int]bool{}
		for _, e := range events.Events {
			if e.Type != registry.EventAliasSet {
				continue
			}
			if e.From != from {
				t.Fatalf("alias move %d -> %d, but the alias was at %d: an update was lost", e.From, e.Version, from)
			}
			from, moved[e.Version] = e.Version, true
		}
		a, err := client.GetAlias(ctx, "m", "prod")
		if len(moved) != movers || err != nil || a.Version != from {
			t.Fatalf("%d distinct moves (want %d); alias %+v, %v; chain ends at %d", len(moved), movers, a, err, from)
		}
	})
}

func TestAliasRules(t *testing.T) {
	ctx := context.Background()
	client := testenv.StartRegistry(t, testenv.FolderStore(t, ""), storage.Options{}, server.Options{}).Client("")
	for i := range 2 {
		m := testenv.ModelBytes(t, testenv.AdderModel(t, float32(i)))
		if _, err := client.Push(ctx, "r", registry.PushRequest{Digest: registry.Digest(m)}, bytes.NewReader(m), nil); err != nil {
			t.Fatal(err)
		}
	}
	zero, one := 0, 1
	if _, err := client.SetAlias(ctx, "r", "prod", 1, &zero); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetAlias(ctx, "r", "prod", 2, &zero); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale expect: %v, want ErrConflict", err)
	}
	if _, err := client.SetAlias(ctx, "r", "prod", 9, nil); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("alias to a missing version: %v, want ErrNotFound", err)
	}
	if err := client.DeleteVersion(ctx, "r", 1); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("delete aliased version: %v, want ErrConflict", err)
	}
	v, err := client.Resolve(ctx, registry.Ref{Name: "r", Alias: "prod"})
	if err != nil || v.Version != 1 {
		t.Fatalf("resolve r@prod: %+v, %v", v, err)
	}
	// Polling: unchanged alias answers 304.
	_, etag, changed, err := client.AliasIfChanged(ctx, "r", "prod", "")
	if err != nil || !changed || etag == "" {
		t.Fatalf("first poll: %q %v %v", etag, changed, err)
	}
	if _, _, changed, err := client.AliasIfChanged(ctx, "r", "prod", etag); err != nil || changed {
		t.Fatalf("second poll: changed %v, %v", changed, err)
	}
	if _, err := client.SetAlias(ctx, "r", "prod", 2, &one); err != nil {
		t.Fatal(err)
	}
	if a, _, changed, err := client.AliasIfChanged(ctx, "r", "prod", etag); err != nil || !changed || a.Version != 2 {
		t.Fatalf("poll after move: %+v %v %v", a, changed, err)
	}
	if err := client.DeleteVersion(ctx, "r", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Resolve(ctx, registry.Ref{Name: "r", Version: 1}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted version: %v, want ErrNotFound", err)
	}
	// A deleted version's number is never reused.
	m := testenv.ModelBytes(t, testenv.AdderModel(t, 7))
	if v, err := client.Push(ctx, "r", registry.PushRequest{Digest: registry.Digest(m)}, bytes.NewReader(m), nil); err != nil || v.Version != 3 {
		t.Fatalf("push after delete: %+v, %v", v, err)
	}
	if err := client.DeleteAlias(ctx, "r", "prod", &one); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("delete alias with stale expect: %v", err)
	}
	if err := client.DeleteAlias(ctx, "r", "prod", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetAlias(ctx, "r", "prod"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted alias: %v", err)
	}
	if _, err := client.SetAlias(ctx, "r", "prod", 2, &zero); err != nil {
		t.Fatalf("re-create a deleted alias expecting none: %v", err)
	}
	m2, _ := client.GetModel(ctx, "r")
	if fmt.Sprint(m2.Aliases) != "map[prod:2]" || m2.LatestVersion != 3 {
		t.Fatalf("model %+v", m2)
	}
}
