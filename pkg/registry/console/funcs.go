package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when":   when,
	"ago":    ago,
	"size":   size,
	"ms":     func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) },
	"secms":  func(s float64) string { return fmt.Sprintf("%.2f ms", s*1000) },
	"num":    func(f float64) string { return short(f) },
	"rate":   func(f float64) string { return fmt.Sprintf("%.1f/s", f) },
	"pct":    func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"digest": shortDigest,
	"join":   strings.Join,
	"metric": func(m map[string]float64, k string) string {
		if v, ok := m[k]; ok {
			return short(v)
		}
		return ""
	},
	"health": healthClass,
	"json": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err.Error()
		}
		return string(b)
	},
	"servedWord": func(n *registry.NodeModel) string {
		if n.Version == 0 {
			return "loading"
		}
		return fmt.Sprintf("version %d", n.Version)
	},
}

// when formats a time in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long before now t was.
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.UTC().Format("2006-01-02")
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	return d[:min(len(d), 12)]
}

// healthClass is the CSS class of a node's health word.
func healthClass(h string) string {
	switch h {
	case "ready":
		return "ok"
	case "stale", "degraded":
		return "warn"
	}
	return "bad"
}
