package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every few milliseconds until it holds, and fails
// the test when it still does not after timeout, with what describe says
// (describe may be nil).
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if describe != nil {
				msg = ": " + describe()
			}
			t.Fatalf("not reached in %v%s", timeout, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
