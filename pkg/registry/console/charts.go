package console

import (
	"maps"
	"slices"
	"strconv"
)

// chart is a bar chart drawn as inline SVG by the "chart" template: one
// or two series (reference, current) of proportions over the same bins.
type chart struct {
	Width, Height float64
	Bars          []bar
	Labels        []label
	// Two is set when the chart compares a current series with the reference.
	Two bool
}

type bar struct {
	X, Y, W, H float64
	// Series is "ref" or "cur" (the CSS class, and the legend word).
	Series string
	Title  string
}

type label struct {
	X      float64
	Text   string
	Anchor string
}

const (
	chartWidth  = 320
	chartHeight = 120
	chartLabels = 16 // room below the bars for the axis labels
	maxBins     = 40
	maxCats     = 12
)

// histogram draws reference (and current, when not nil) counts over a
// numeric feature's bin edges.
func histogram(edges []float64, ref, cur []int64) *chart {
	if len(ref) == 0 || len(edges) != len(ref)+1 || len(ref) > maxBins {
		return nil
	}
	names := make([]string, len(ref))
	for i := range ref {
		names[i] = "[" + short(edges[i]) + ", " + short(edges[i+1]) + ")"
	}
	c := bars(names, ref, cur)
	c.Labels = []label{{X: 0, Text: short(edges[0]), Anchor: "start"}, {X: chartWidth, Text: short(edges[len(edges)-1]), Anchor: "end"}}
	return c
}

// categories draws the most frequent reference categories (and the
// current window's share of them).
func categories(ref, cur map[string]int64) *chart {
	if len(ref) == 0 {
		return nil
	}
	names := slices.SortedFunc(maps.Keys(ref), func(a, b string) int {
		if ref[a] != ref[b] {
			return int(ref[b] - ref[a])
		}
		if a < b {
			return -1
		}
		return 1
	})
	names = names[:min(len(names), maxCats)]
	r := make([]int64, len(names))
	var cu []int64
	if cur != nil {
		cu = make([]int64, len(names))
	}
	for i, n := range names {
		r[i] = ref[n]
		if cur != nil {
			cu[i] = cur[n]
		}
	}
	c := bars(names, r, cu)
	c.Labels = []label{{X: 0, Text: names[0], Anchor: "start"}}
	if len(names) > 1 {
		c.Labels = append(c.Labels, label{X: chartWidth, Text: names[len(names)-1], Anchor: "end"})
	}
	return c
}

// bars lays out each series' proportions per bin, side by side.
func bars(names []string, ref, cur []int64) *chart {
	c := &chart{Width: chartWidth, Height: chartHeight + chartLabels, Two: cur != nil}
	series := []struct {
		name   string
		counts []int64
	}{{"ref", ref}}
	if cur != nil {
		series = append(series, struct {
			name   string
			counts []int64
		}{"cur", cur})
	}
	props := make([][]float64, len(series))
	top := 0.0
	for s, ser := range series {
		total := int64(0)
		for _, n := range ser.counts {
			total += n
		}
		props[s] = make([]float64, len(ser.counts))
		for i, n := range ser.counts {
			if total > 0 {
				props[s][i] = float64(n) / float64(total)
			}
			top = max(top, props[s][i])
		}
	}
	if top == 0 {
		top = 1
	}
	slot := float64(chartWidth) / float64(len(names))
	w := (slot - 2) / float64(len(series))
	for i := range names {
		for s, ser := range series {
			h := props[s][i] / top * (chartHeight - 4)
			word := "reference"
			if ser.name == "cur" {
				word = "current"
			}
			c.Bars = append(c.Bars, bar{
				X: float64(i)*slot + 1 + float64(s)*w, Y: chartHeight - h, W: max(w, 0.5), H: h, Series: ser.name,
				Title: names[i] + ": " + word + " " + strconv.FormatFloat(props[s][i]*100, 'f', 1, 64) + "%",
			})
		}
	}
	return c
}

// short formats an axis value with few digits.
func short(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }
