// Package validate holds Kiln's validation gates: the checks a model version
// must pass before an alias such as "production" may point at it, and before
// a serving node swaps it in.
//
// A Policy (one per model, stored in the registry) lists the gates: metric
// thresholds, a maximum model size, signature compatibility with the version
// now behind the alias, no regression against it, a smoke test on an input
// example, and a latency budget. Static runs the gates that need no runtime
// (the registry runs these on every move of a protected alias); Runtime runs
// the smoke test and the latency budget through a Runner (an ONNX Runtime
// model in kiln-serve and the kiln CLI); All runs both. Every gate reports
// its measured value and its threshold in one Report.
//
// The package is pure Go: it never loads ONNX Runtime itself.
package validate
