package batch

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// ProgressPrinter shows a job's progress: on a terminal a bar redrawn in
// place (rows done, rows/s, ETA), elsewhere a plain line every few seconds.
type ProgressPrinter struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	mu       sync.Mutex
	last     time.Time
	drawn    bool
}

// NewProgressPrinter writes to w (usually stderr); terminal picks the bar.
func NewProgressPrinter(w io.Writer, terminal bool) *ProgressPrinter {
	every := 5 * time.Second
	if terminal {
		every = 200 * time.Millisecond
	}
	return &ProgressPrinter{w: w, terminal: terminal, every: every, last: time.Now()}
}

// Update is a Config.Progress callback.
func (p *ProgressPrinter) Update(pr Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Rows-pr.Resumed) / s
	}
	eta := "?"
	if pr.Fraction > 0 && pr.Fraction < 1 {
		eta = (time.Duration(float64(pr.Elapsed) * (1 - pr.Fraction) / pr.Fraction)).Round(time.Second).String()
	}
	status := fmt.Sprintf("%d rows (%d failed), %.0f rows/s, %3.0f%%, ETA %s", pr.Rows, pr.Failed, rate, 100*pr.Fraction, eta)
	if !p.terminal {
		fmt.Fprintln(p.w, "batch:", status)
		return
	}
	const width = 30
	done := int(pr.Fraction * width)
	fmt.Fprintf(p.w, "\r[%s%s] %s\033[K", strings.Repeat("=", done), strings.Repeat(" ", width-done), status)
	p.drawn = true
}

// Done ends the bar's line, if one was drawn.
func (p *ProgressPrinter) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
