package testenv

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

var chromium struct {
	once sync.Once
	path string
	err  string
}

// Chromium returns the path of a Chromium browser for browser tests:
// $KILN_CHROMIUM, else chromium on the PATH. When it is missing and the
// tests run as root, it installs Debian's chromium package with apt-get
// (the system keeps it for the next run); otherwise it fails the test with
// the command that installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	chromium.once.Do(func() {
		if p := os.Getenv("KILN_CHROMIUM"); p != "" {
			chromium.path = p
			return
		}
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium.path = p
				return
			}
		}
		if os.Geteuid() != 0 {
			chromium.err = "Chromium not found: install it (sudo apt-get install chromium) or set KILN_CHROMIUM to its path"
			return
		}
		install := func(args ...string) ([]byte, error) {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			return cmd.CombinedOutput()
		}
		out, err := install("install", "-y", "-q", "--no-install-recommends", "chromium")
		if err != nil {
			// The package lists may be missing or stale.
			if out, err = install("update", "-q"); err == nil {
				out, err = install("install", "-y", "-q", "--no-install-recommends", "chromium")
			}
		}
		if p, lookErr := exec.LookPath("chromium"); err == nil && lookErr == nil {
			chromium.path = p
			return
		}
		chromium.err = "installing Chromium with apt-get failed: " + string(out)
	})
	if chromium.err != "" {
		t.Fatal(chromium.err)
	}
	return chromium.path
}
