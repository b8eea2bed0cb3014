// Package batch scores tables (read and written by pkg/table) with an ONNX
// model: the mapping of columns onto model inputs and of model outputs onto
// columns, an ordered parallel pipeline, and jobs that checkpoint their
// output in parts so that a killed run resumes where it stopped.
package batch
