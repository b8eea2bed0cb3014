// Package batch scores tables (read and written by pkg/table) with an ONNX
// model: the mapping of columns onto model inputs and of model outputs onto
// columns, an ordered parallel pipeline, and jobs that checkpoint their
// output in parts so that a killed run resumes where it stopped. Scan
// scores a table without writing it: CollectPredictions gathers a model's
// predictions on labelled rows for pkg/eval, and Profile builds the
// pkg/drift reference profile of the tensors a model sees.
package batch
