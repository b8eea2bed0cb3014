// Package batch scores tabular files with an ONNX model: readers and writers
// for CSV, JSONL and Parquet (local files, folders, or s3:// objects and
// prefixes), the mapping of columns onto model inputs and of model outputs
// onto columns, an ordered parallel pipeline, and jobs that checkpoint their
// output in parts so that a killed run resumes where it stopped.
package batch
