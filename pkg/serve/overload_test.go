package serve_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestOverloadGets429AndRecovers floods a model whose queue holds 4 requests
// and checks that the excess gets 429 with Retry-After at once, that memory
// stays bounded, and that the server answers normally afterwards.
func TestOverloadGets429AndRecovers(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	cfg := &serve.Config{Models: map[string]serve.ModelConfig{
		"slow": {Batching: serve.BatchingConfig{MaxQueueSize: 4, Instances: 1}},
	}}
	mgr := serve.NewManager(serve.ManagerOptions{Config: cfg})
	defer mgr.Close()
	if err := mgr.Load(serve.Source{Name: "slow", Version: 1, Path: testenv.WriteModel(t, testenv.SlowModel(t, 20))}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(serve.NewServer(mgr, serve.Options{}).Handler())
	defer ts.Close()

	body, headerLen := oip.EncodeRequest(&oip.InferRequest{Inputs: []*oip.Tensor{
		oip.NewTensor("x", []int64{8, 1024}, make([]float32, 8*1024)),
	}}, true)
	post := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v2/models/slow/infer", bytes.NewReader(body))
		req.Header.Set(oip.HeaderContentLength, strconv.Itoa(headerLen))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	burst := func() (ok, refused int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, retry := post()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case code == 200:
					ok++
				case code == 429 && retry == "1":
					refused++
				default:
					t.Errorf("status %d, Retry-After %q", code, retry)
				}
			}()
		}
		wg.Wait()
		return ok, refused
	}
	// Resident memory is read once ONNX Runtime's arenas have grown to the
	// load (two bursts) and with Go's free memory given back, so that what
	// earlier tests of this process left behind does not count.
	rss := func() int64 {
		debug.FreeOSMemory()
		return testenv.ProcStatusKiB(t, 0, "VmRSS")
	}
	burst()
	burst()
	before := rss()
	var okTotal, refusedTotal int
	for range 5 {
		ok, refused := burst()
		okTotal, refusedTotal = okTotal+ok, refusedTotal+refused
	}
	after := rss()
	t.Logf("5 bursts of 40: %d answered, %d refused with 429; RSS %d -> %d KiB", okTotal, refusedTotal, before, after)
	if refusedTotal == 0 || okTotal == 0 {
		t.Errorf("want both answers and 429s under overload, got %d and %d", okTotal, refusedTotal)
	}
	if after-before > 32*1024 {
		t.Errorf("RSS grew by %d KiB under overload", after-before)
	}
	if code, _ := post(); code != 200 {
		t.Errorf("after the overload: status %d", code)
	}
}
