// Package oip holds the Open Inference Protocol v2 (KServe v2 / Triton HTTP)
// wire types, their JSON codec with the binary tensor data extension, and a
// small HTTP client.
//
// Tensors keep their elements in typed binary form, never as []any: JSON
// numbers are parsed straight into Tensor.Raw and written back from it
// without reflection, and binary tensor data is taken as one slice of the
// request body, with no per-element work.
//
// # JSON tensor data
//
// Decoding accepts flat or nested arrays (any nesting is flattened; a bare
// scalar is one element); the element count must equal the product of the
// shape. Elements are read as follows:
//
//   - integer types take integral numbers in range (1, -3, 2.0, 1e3);
//   - BOOL takes true and false, and 0 and 1;
//   - FP16, FP32, FP64 and BF16 take numbers, rounded to the nearest
//     representable value (a finite number too large for the type is an
//     error), and the strings "NaN", "Inf", "-Inf" (also "+Inf", "Infinity"
//     and "-Infinity", in any case);
//   - BYTES takes strings, stored as their UTF-8 bytes.
//
// Encoding writes data flat, floats in their shortest round-trip form (FP16
// and BF16 through float32), and NaN and ±Inf as the strings "NaN", "Inf"
// and "-Inf", since JSON has no literals for them; the decoder reads them
// back. BYTES elements that are not valid UTF-8 cannot travel
// in JSON: each invalid byte is written as U+FFFD; use the binary extension
// for arbitrary bytes.
//
// # Binary tensor data extension
//
// With binary data the body is a JSON header of Inference-Header-Content-Length
// bytes followed by the data of every tensor whose parameters hold
// binary_data_size N, as the next N bytes, in tensor order. Fixed-size
// elements are raw little-endian bytes; each BYTES element is a 4-byte
// little-endian length followed by its bytes. The codec sets and consumes
// binary_data_size itself: decoded tensors never carry it.
//
// # Byte order
//
// The package assumes a little-endian host (amd64, arm64 and the other
// platforms Kiln builds for): Raw holds elements in little-endian order and
// the typed views reinterpret it in place. It panics at start-up on a
// big-endian host.
package oip
