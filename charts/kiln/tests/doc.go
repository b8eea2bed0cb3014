// Package tests checks the Kiln Helm chart without a cluster: it renders the
// chart with the pinned helm (scripts/setup-helm.sh) over the values files in
// charts/kiln/ci, decodes every manifest strictly into its Kubernetes or
// Prometheus Operator type, and checks how the pieces fit together.
//
// It is a module of its own so that k8s.io/api and its dependencies never
// enter the product's go.mod. Run it with scripts/test-deploy.sh, or here
// with `go test ./...`.
package tests
