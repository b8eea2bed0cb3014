package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestEveryMethod runs each row of the methods table on a numeric feature
// and, unless it needs numbers, a categorical one: the reference itself
// does not drift, a shifted window does, the score is a number, and the
// report carries the method, its default threshold and a p-value exactly
// when the method has one.
func TestEveryMethod(t *testing.T) {
	ref := synth(1, 1000, 0, baseProbs)
	p := profileOf(t, ref)
	shifted := synth(3, 1000, 1, [3]float64{0.2, 0.3, 0.5})
	for _, m := range methods {
		t.Run(string(m.name), func(t *testing.T) {
			cfg := Config{Methods: map[string]Method{"x": m.name}}
			features := []string{"x"}
			if !m.numericOnly {
				cfg.Methods["c"] = m.name
				features = append(features, "c")
			}
			for _, c := range []struct {
				window data
				drift  bool
			}{{ref, false}, {shifted, true}} {
				r := runWindow(t, p, cfg, c.window)
				for _, name := range features {
					f := result(t, r.Features, name)
					if f.Drift != c.drift || !f.Tested || math.IsNaN(f.Score) || math.IsNaN(f.Statistic) {
						t.Errorf("%s (shifted %v): drift %v tested %v score %v statistic %v; want drift %v",
							name, c.drift, f.Drift, f.Tested, f.Score, f.Statistic, c.drift)
					}
					if f.Method != m.name || f.Threshold != m.threshold || (f.PValue != nil) != m.pValue {
						t.Errorf("%s: method %s threshold %v p-value %v; want %s at %v, p-value %v",
							name, f.Method, f.Threshold, f.PValue, m.name, m.threshold, m.pValue)
					}
				}
			}
		})
	}
}

// TestMethodErrors pins the messages that list the methods.
func TestMethodErrors(t *testing.T) {
	p := profileOf(t, synth(1, 200, 0, baseProbs))
	for cfg, want := range map[*Config]string{
		{NumericMethod: "t-test"}:                            `unknown drift method "t-test": want ks, wasserstein, chisquare, jensenshannon or psi`,
		{CategoricalMethod: MethodKS}:                        `drift config: categorical_method "ks" needs numbers; use chisquare, jensenshannon or psi`,
		{Methods: map[string]Method{"c": MethodWasserstein}}: `drift config: "c" is categorical; method "wasserstein" needs numbers`,
	} {
		if _, err := NewMonitor(p, *cfg); err == nil || err.Error() != want {
			t.Errorf("%+v: error %v, want %s", *cfg, err, want)
		}
	}
}

// TestMethodsListedInChartAndDocs: the chart's values schema accepts
// exactly the table's methods, and docs/drift.md's table of methods gives
// each one's test and default threshold.
func TestMethodsListedInChartAndDocs(t *testing.T) {
	data, err := os.ReadFile("../../charts/kiln/values.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			DriftMethod struct {
				Enum []Method `json:"enum"`
			} `json:"driftMethod"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var names []Method
	for _, m := range methods {
		names = append(names, m.name)
	}
	if got := schema.Defs.DriftMethod.Enum; !slices.Equal(got, names) {
		t.Errorf("values.schema.json driftMethod enum %v, want %v", got, names)
	}

	doc, err := os.ReadFile("../../docs/drift.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(doc), "\n")
	for _, m := range methods {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "| `"+string(m.name)+"`: ") })
		if i < 0 {
			t.Errorf("docs/drift.md has no table row for %s", m.name)
			continue
		}
		row := lines[i]
		if !strings.HasSuffix(row, fmt.Sprintf("| %v |", m.threshold)) || strings.Contains(row, "p-value < threshold") != m.pValue {
			t.Errorf("docs/drift.md row for %s: %q; want its default %v, and p-value < threshold only for a p-value", m.name, row, m.threshold)
		}
	}
}
