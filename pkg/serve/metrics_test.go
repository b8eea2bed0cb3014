package serve

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The request series are cached per label set; a forgotten version's
// duration series goes with its cache entry, so a version served again
// records into a live series.
func TestMetricsSeriesAfterForget(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.observe("m", "1", classOK, "rest", "primary", time.Millisecond)
	m.observe("m", "1", classOK, "rest", "primary", time.Millisecond)
	m.forget("m", "1")
	m.observe("m", "1", classOK, "rest", "primary", time.Millisecond)
	m.observe("", "", classNotFound, "rest", "", time.Millisecond)

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			labels := ""
			for _, l := range s.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			switch f.GetName() {
			case "kiln_inference_requests_total":
				got[f.GetName()+"{"+labels+"}"] = s.GetCounter().GetValue()
			case "kiln_inference_request_duration_seconds":
				got[f.GetName()+"{"+labels+"}"] = float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"kiln_inference_requests_total{code=200,model=m,protocol=rest,role=primary,version=1,}": 3,
		"kiln_inference_requests_total{code=404,model=,protocol=rest,role=,version=,}":          1,
		"kiln_inference_request_duration_seconds{model=m,role=primary,version=1,}":              1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
}
