package server_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/registry/storage"
)

// listAll returns every key in the store, recursively, sorted.
func listAll(t testing.TB, s storage.Store) []string {
	t.Helper()
	var keys []string
	var walk func(dir string)
	walk = func(dir string) {
		err := s.Iter(context.Background(), dir, func(k string) error {
			if strings.HasSuffix(k, "/") {
				walk(k)
			} else {
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	walk("")
	sort.Strings(keys)
	return keys
}
