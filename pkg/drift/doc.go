// Package drift detects data drift and prediction drift: it profiles
// reference data (ProfileBuilder -> Profile, stored with a model version),
// accumulates the live rows a serving node sees in windows (Monitor), and
// when a window closes compares each feature and output with the reference
// (Report), with the statistical tests and distances Evidently uses:
// two-sample Kolmogorov-Smirnov, chi-square, normalized Wasserstein,
// Jensen-Shannon distance, and the population stability index.
//
// The package is pure Go and does no I/O: callers read files, decode
// profiles with ParseProfile and export reports as they see fit.
package drift
