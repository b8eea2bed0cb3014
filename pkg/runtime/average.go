package runtime

import (
	"sync/atomic"
	"time"
)

// movingAverage is a moving average of durations, each new one weighing an
// eighth, safe for concurrent use; zero until the first.
type movingAverage struct{ ns atomic.Int64 }

func (a *movingAverage) add(d time.Duration) {
	old := a.ns.Load()
	if old == 0 {
		a.ns.Store(int64(d))
		return
	}
	a.ns.Store(old - old/8 + int64(d)/8)
}

func (a *movingAverage) get() time.Duration { return time.Duration(a.ns.Load()) }
