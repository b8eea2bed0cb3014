package testenv

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// ProcStatusKiB returns a size field of /proc/PID/status in KiB, such as
// "VmRSS" (resident set) or "VmHWM" (its peak); pid 0 means this process.
func ProcStatusKiB(t testing.TB, pid int, field string) int64 {
	t.Helper()
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading memory use needs Linux /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s %s: %v", path, field, err)
			}
			return kib
		}
	}
	t.Fatalf("no %s in %s", field, path)
	return 0
}
