package serve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestTracingContinuesTraceparent sends a request carrying a W3C traceparent
// and checks the spans recorded: the HTTP request span continues the
// caller's trace, with queue and run spans beneath it.
func TestTracingContinuesTraceparent(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	otel.SetTextMapPropagator(propagation.TraceContext{})
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	models := serve.NewManager(serve.ManagerOptions{})
	defer models.Close()
	if err := models.Load(serve.Source{Name: "multi", Version: 1, Path: testenv.WriteModel(t, testenv.MultiIOModel(t))}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(serve.NewServer(models, serve.Options{TracerProvider: provider}).Handler())
	defer ts.Close()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v2/models/multi/infer", strings.NewReader(`{"inputs":[`+a13+`,`+b13+`]}`))
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	spans := map[string]tracetest.SpanStub{}
	for _, s := range exporter.GetSpans() {
		spans[s.Name] = s
	}
	var request tracetest.SpanStub
	for name, s := range spans {
		if strings.Contains(name, "/infer") {
			request = s
		}
	}
	if request.Name == "" {
		t.Fatalf("no HTTP request span among %v", exporter.GetSpans().Snapshots())
	}
	if request.SpanContext.TraceID().String() != traceID || request.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("request span trace %s parent %s: the incoming traceparent was not continued", request.SpanContext.TraceID(), request.Parent.SpanID())
	}
	for _, name := range []string{"queue", "run"} {
		s, ok := spans[name]
		if !ok {
			t.Errorf("no %q span", name)
			continue
		}
		if s.Parent.SpanID() != request.SpanContext.SpanID() || s.SpanContext.TraceID().String() != traceID {
			t.Errorf("%q span is not a child of the request span", name)
		}
		if s.EndTime.Before(s.StartTime) {
			t.Errorf("%q span ends before it starts", name)
		}
	}
	if spans["run"].StartTime.Before(spans["queue"].StartTime) {
		t.Error("the run span starts before the queue span")
	}
}
