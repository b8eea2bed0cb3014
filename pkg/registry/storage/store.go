package storage

import (
	"github.com/kilnml/kiln/pkg/objstore"
)

// Store is the object storage under the registry: a bucket with the two
// conditional writes (create-if-absent for version manifests,
// compare-and-swap on the ETag for aliases). objstore.Open opens one from
// a file:// or s3:// URL.
type Store = objstore.ConditionalBucket

// NewFSStore opens (creating if needed) a Store in the folder root.
func NewFSStore(root string) (Store, error) { return objstore.NewFS(root) }
