package console_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkPages1000Versions times the pages of a model with 1,000
// versions (and their 1,000 push events) over real HTTP on a folder store.
// The goal is under 50 ms a page.
func BenchmarkPages1000Versions(b *testing.B) {
	s := newSite(b, false)
	for i := range 1000 {
		s.push(b, "big", map[string]float64{"accuracy": 0.9 + float64(i%100)/1000, "f1": 0.8, "auc": 0.95})
	}
	for _, path := range []string{"/", "/models/big", "/models/big?before=500", "/models/big/versions/1000", "/nodes"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Get(s.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
		})
	}
}
