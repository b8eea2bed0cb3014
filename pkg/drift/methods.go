package drift

import "strings"

// methodSpec is what the package knows about one drift test.
type methodSpec struct {
	// name is the method as written in settings and reports.
	name Method
	// numericOnly methods need raw numbers: they cannot test a categorical
	// column.
	numericOnly bool
	// pValue methods score a window by a p-value and find drift below the
	// threshold; the others by a distance, with drift at or above it.
	pValue bool
	// threshold is the default threshold (Evidently's).
	threshold float64
	// score tests window w against its reference column w.ref; pValue is
	// ignored for a distance.
	score func(w *window) (statistic, pValue float64)
}

// methods are the drift tests, in the order error messages list them.
// Adding one is a new file with its score function and one row here; the
// chart's values.schema.json and docs/drift.md list the names too, and
// TestMethodsListedInChartAndDocs fails until they do.
var methods = []methodSpec{
	{name: MethodKS, numericOnly: true, pValue: true, threshold: 0.05, score: ksScore},
	{name: MethodWasserstein, numericOnly: true, threshold: 0.1, score: wassersteinScore},
	{name: MethodChiSquare, pValue: true, threshold: 0.05, score: chiSquareScore},
	{name: MethodJensenShannon, threshold: 0.1, score: jensenShannonScore},
	{name: MethodPSI, threshold: 0.1, score: psiScore},
}

// lookup returns the row of method m, or nil for an unknown name.
func lookup(m Method) *methodSpec {
	for i := range methods {
		if methods[i].name == m {
			return &methods[i]
		}
	}
	return nil
}

// methodNames lists the methods' names as "a, b or c": all of them, or
// with categorical only those that can test a categorical column.
func methodNames(categorical bool) string {
	var names []string
	for _, m := range methods {
		if !categorical || !m.numericOnly {
			names = append(names, string(m.name))
		}
	}
	last := len(names) - 1
	return strings.Join(names[:last], ", ") + " or " + names[last]
}
