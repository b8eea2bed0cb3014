package eval

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes the report as one self-contained HTML page: the metric
// tables, and as inline SVG the confusion matrix with per-class bars
// (classification) or a residual plot (regression).
func WriteHTML(w io.Writer, r *Report) error {
	var text strings.Builder
	if err := WriteText(&text, r); err != nil {
		return err
	}
	data := map[string]any{"Report": r, "Tables": text.String()}
	if c := r.Classification; c != nil {
		data["Confusion"] = template.HTML(confusionSVG(c))
		data["Bars"] = template.HTML(classBarsSVG(c))
	} else {
		data["Residuals"] = template.HTML(residualSVG(r.Regression))
	}
	return htmlReport.Execute(w, data)
}

var htmlReport = template.Must(template.New("report").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>kiln evaluate: {{.Report.Model}}</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}svg text{font-size:12px}</style></head>
<body><h1>{{.Report.Model}} on {{.Report.Data}}</h1>
{{with .Confusion}}<h2>Confusion matrix</h2>{{.}}{{end}}
{{with .Bars}}<h2>Per-class precision, recall and F1</h2>{{.}}{{end}}
{{with .Residuals}}<h2>Residuals (prediction - label) against prediction</h2>{{.}}{{end}}
<h2>Metrics</h2><pre>{{.Tables}}</pre>
</body></html>
`))

// confusionSVG draws the confusion matrix as a grid of cells shaded by
// the share of their true class.
func confusionSVG(c *Classification) string {
	const cell, margin = 56, 110
	k := len(c.Classes)
	size := margin + k*cell + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="confusion matrix">`, size, size)
	fmt.Fprintf(&b, `<text x="%d" y="14">predicted</text>`, margin)
	for i, name := range c.Classes {
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, margin+i*cell+4, margin-8, template.HTMLEscapeString(name))
		fmt.Fprintf(&b, `<text x="4" y="%d">%s</text>`, margin+i*cell+cell/2+4, template.HTMLEscapeString(name))
	}
	for i, row := range c.Confusion {
		total := 0
		for _, n := range row {
			total += n
		}
		for j, n := range row {
			shade := 0.0
			if total > 0 {
				shade = float64(n) / float64(total)
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="rgb(%d,%d,255)" stroke="#999"/>`,
				margin+j*cell, margin+i*cell, cell, cell, int(255*(1-shade)), int(255*(1-shade)))
			color := "#000"
			if shade > 0.5 {
				color = "#fff"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" text-anchor="middle">%d</text>`, margin+j*cell+cell/2, margin+i*cell+cell/2+4, color, n)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// classBarsSVG draws precision, recall and F1 of each class as bars.
func classBarsSVG(c *Classification) string {
	const group, bar, height, left = 90, 24, 200, 40
	colors := []string{"#4e79a7", "#f28e2b", "#59a14f"}
	var b strings.Builder
	width := left + len(c.PerClass)*group + 20
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="per-class metrics">`, width, height+60)
	for i, name := range []string{"precision", "recall", "f1"} {
		fmt.Fprintf(&b, `<rect x="%d" y="4" width="10" height="10" fill="%s"/><text x="%d" y="14">%s</text>`, left+i*90, colors[i], left+i*90+14, name)
	}
	for i, pc := range c.PerClass {
		for j, v := range []float64{pc.Precision, pc.Recall, pc.F1} {
			h := int(v * height)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %.4f</title></rect>`,
				left+i*group+j*bar, 30+height-h, bar-2, h, colors[j], template.HTMLEscapeString(pc.Class), v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left+i*group, height+48, template.HTMLEscapeString(pc.Class))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/></svg>`, left, 30+height, width, 30+height)
	return b.String()
}

// residualSVG plots residual against prediction for the sampled examples.
func residualSVG(m *Regression) string {
	const w, h, pad = 600, 300, 40
	minX, maxX, maxR := math.Inf(1), math.Inf(-1), 0.0
	for _, p := range m.Sample {
		minX, maxX = math.Min(minX, p.Predicted), math.Max(maxX, p.Predicted)
		maxR = math.Max(maxR, math.Abs(p.Residual))
	}
	if maxX == minX {
		maxX = minX + 1
	}
	if maxR == 0 {
		maxR = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="residual plot">`, w+2*pad, h+2*pad)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, pad, pad+h/2, pad+w, pad+h/2)
	for _, p := range m.Sample {
		x := pad + (p.Predicted-minX)/(maxX-minX)*w
		y := pad + h/2 - p.Residual/maxR*h/2
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2" fill="#4e79a7"/>`, x, y)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%.4g</text><text x="%d" y="%d">%.4g</text>`, pad, h+2*pad-8, minX, w, h+2*pad-8, maxX)
	fmt.Fprintf(&b, `<text x="2" y="%d">+%.3g</text><text x="2" y="%d">-%.3g</text></svg>`, pad+4, maxR, pad+h, maxR)
	return b.String()
}
