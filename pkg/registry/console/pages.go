package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// How much of a model's audit log its page reads: the newest events, from
// which the alias history is drawn too (kiln alias history has the rest).
const (
	eventsShown     = 100
	eventsRead      = 300
	metricsShown    = 6
	versionsPerPage = 100
)

// modelRow is one line of the models page.
type modelRow struct {
	Model   registry.Model
	Aliases []aliasCell
	Served  []servedCell
	Drift   driftState
}

type aliasCell struct {
	Alias   string
	Version int
}

type servedCell struct {
	Node    string
	Version int
}

// driftState sums up what the nodes say about a model's drift.
type driftState struct {
	// Word is "drift", "no drift" or "no data".
	Word string
	// Share is the largest drift share reported.
	Share float64
}

// modelDrift sums up the nodes' latest drift reports of a model.
func modelDrift(nodes []registry.Node, model string) driftState {
	st := driftState{Word: "no data"}
	for _, n := range nodes {
		m := n.Model(model)
		if m == nil || m.Drift == nil || m.Drift.Report == nil {
			continue
		}
		r := m.Drift.Report
		if st.Word == "no data" {
			st.Word = "no drift"
		}
		if r.DatasetDrift {
			st.Word = "drift"
		}
		st.Share = max(st.Share, r.DriftShare)
	}
	return st
}

func (c *console) modelsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	nodes := c.nodes.List()
	var rows []modelRow
	p := registry.Page{Size: 1000}
	for {
		list, err := c.svc.ListModels(ctx, p)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, m := range list.Models {
			row := modelRow{Model: m, Drift: modelDrift(nodes, m.Name)}
			for _, a := range slices.Sorted(maps.Keys(m.Aliases)) {
				row.Aliases = append(row.Aliases, aliasCell{a, m.Aliases[a]})
			}
			for _, n := range nodes {
				if nm := n.Model(m.Name); nm != nil {
					row.Served = append(row.Served, servedCell{n.Node, nm.Version})
				}
			}
			rows = append(rows, row)
		}
		if list.NextPageToken == "" {
			break
		}
		p.Token = list.NextPageToken
	}
	c.render(w, r, http.StatusOK, "models", "Models", "models", rows)
}

// modelData is the model page's data.
type modelData struct {
	Model    *registry.Model
	Versions []versionRow
	Metrics  []string
	Aliases  []registry.Alias
	History  []registry.Event
	Events   []registry.Event
	Policy   string
	Nodes    []registry.Node
	Drift    driftState
	// Moved names the alias the viewer just moved.
	Moved *registry.Alias
	// Older and Newer are the "before" values of the neighbouring pages
	// of versions (0: none).
	Older, Newer int
}

// versionRow is one line of a model's versions table.
type versionRow struct {
	V       registry.Version
	Aliases []string
	Served  []string
}

func (c *console) modelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	m, err := c.svc.GetModel(ctx, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := modelData{Model: m, Nodes: c.nodes.ServedBy(name)}
	d.Drift = modelDrift(d.Nodes, name)
	if d.Aliases, err = c.svc.ListAliases(ctx, name); err != nil {
		c.fail(w, r, err)
		return
	}
	byVersion := map[int][]string{}
	for _, a := range d.Aliases {
		byVersion[a.Version] = append(byVersion[a.Version], a.Alias)
		if a.Alias == r.URL.Query().Get("moved") {
			d.Moved = &a
		}
	}
	served := map[int][]string{}
	for _, n := range d.Nodes {
		v := n.Models[0].Version
		served[v] = append(served[v], n.Node)
	}
	before := m.LatestVersion + 1
	if s := r.URL.Query().Get("before"); s != "" {
		if before, err = strconv.Atoi(s); err != nil || before < 2 {
			c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "before: want a version number above 1"})
			return
		}
	}
	after := max(before-1-versionsPerPage, 0)
	list, err := c.svc.ListVersions(ctx, name, registry.Page{Token: strconv.Itoa(after), Size: before - 1 - after})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Deleted versions are skipped, so the page may reach past before.
	versions := slices.DeleteFunc(list.Versions, func(v registry.Version) bool { return v.Version >= before })
	if after > 0 {
		d.Older = after + 1
	}
	if before <= m.LatestVersion {
		d.Newer = min(before+versionsPerPage, m.LatestVersion+1)
	}
	metrics := map[string]bool{}
	d.Versions = make([]versionRow, len(versions))
	for i, v := range versions {
		d.Versions[len(versions)-1-i] = versionRow{V: v, Aliases: byVersion[v.Version], Served: served[v.Version]}
		for k := range v.Metrics {
			metrics[k] = true
		}
	}
	d.Metrics = slices.Sorted(maps.Keys(metrics))
	d.Metrics = d.Metrics[:min(len(d.Metrics), metricsShown)]
	events, err := c.svc.LatestEvents(ctx, name, eventsRead)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, e := range events {
		switch e.Type {
		case registry.EventAliasSet, registry.EventAliasDelete, registry.EventAliasRefused:
			d.History = append(d.History, e)
		}
	}
	d.Events = events[:min(len(events), eventsShown)]
	policy := validate.Policy{}
	if m.Policy != nil {
		policy = *m.Policy
	}
	if y, err := validate.FormatYAML(policy); err == nil {
		d.Policy = string(y)
	}
	c.render(w, r, http.StatusOK, "model", name, "models", d)
}

// versionData is the version page's data.
type versionData struct {
	V        *registry.Version
	Aliases  []string
	Example  string
	Reports  []reportView
	Profile  []featureChart
	Rows     int
	NoteProf string
	Tags     string
	Nodes    []registry.Node
}

// reportView is one gate report with where it came from.
type reportView struct {
	Source string
	Report validate.Report
}

// featureChart is one feature of a reference profile or drift report with its chart.
type featureChart struct {
	Name  string
	Kind  string
	Chart *chart
	// Ref and Cur summarize the reference and the window.
	Ref drift.Summary
	Cur *drift.Summary
	// Result is the drift test's outcome (drift page only).
	Result *drift.FeatureResult
}

func (c *console) versionPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		c.fail(w, r, &pageError{status: http.StatusBadRequest, msg: "version " + strconv.Quote(r.PathValue("n")) + ": want a version number"})
		return
	}
	v, err := c.svc.Resolve(ctx, registry.Ref{Name: name, Version: n})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := versionData{V: v}
	aliases, err := c.svc.ListAliases(ctx, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, a := range aliases {
		if a.Version == n {
			d.Aliases = append(d.Aliases, a.Alias)
		}
	}
	if len(v.InputExample) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, v.InputExample, "", "  ") == nil {
			d.Example = buf.String()
		}
	}
	for _, k := range slices.Sorted(maps.Keys(v.Tags)) {
		d.Tags += k + "=" + v.Tags[k] + "\n"
	}
	d.Reports, err = c.reports(ctx, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, node := range c.nodes.ServedBy(name) {
		if node.Models[0].Version == n {
			d.Nodes = append(d.Nodes, node)
		}
	}
	d.Profile, d.Rows, d.NoteProf = c.profileCharts(ctx, v)
	c.render(w, r, http.StatusOK, "version", v.Ref().String(), "models", d)
}

// reports gathers every gate report of a version: the registry's on alias
// moves (from the audit log), those recorded on the version, and the last
// one of each node that checked it.
func (c *console) reports(ctx context.Context, v *registry.Version) ([]reportView, error) {
	var out []reportView
	events, err := c.svc.LatestEvents(ctx, v.Name, eventsRead)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Report == nil || e.Version != v.Version || e.Type == registry.EventValidation {
			continue
		}
		what := "move of " + e.Alias + " by " + e.By
		switch {
		case e.Type == registry.EventAliasRefused:
			what += ", refused"
		case e.Forced:
			what += ", forced"
		}
		out = append(out, reportView{Source: what, Report: *e.Report})
	}
	for _, r := range slices.Backward(v.Validations) {
		out = append(out, reportView{Source: "recorded", Report: r})
	}
	for _, n := range c.nodes.ServedBy(v.Name) {
		if rep := n.Models[0].LastReport; rep != nil && rep.Version == v.Version {
			out = append(out, reportView{Source: "node " + n.Node, Report: *rep})
		}
	}
	return out, nil
}

// profileCharts reads a version's reference profile and draws each
// feature's histogram; note says why there are none.
func (c *console) profileCharts(ctx context.Context, v *registry.Version) (charts []featureChart, rows int, note string) {
	if v.ReferenceProfile == nil {
		return nil, 0, "This version has no reference profile (kiln push --reference), so its traffic is not checked for drift."
	}
	data, err := c.readBlob(ctx, *v.ReferenceProfile)
	if err == nil {
		var p *drift.Profile
		if p, err = drift.ParseProfile(data); err == nil {
			for _, group := range [][]drift.FeatureProfile{p.Features, p.Outputs} {
				for _, f := range group {
					fc := featureChart{Name: f.Name, Kind: f.Kind, Ref: drift.Summary{Count: f.Count, Missing: f.Missing, Mean: f.Mean, Std: f.Std, Min: f.Min, Max: f.Max}}
					if f.Kind == drift.Numeric {
						fc.Chart = histogram(f.Edges, f.Counts, nil)
					} else {
						fc.Chart = categories(f.Frequencies, nil)
					}
					charts = append(charts, fc)
				}
			}
			return charts, p.Rows, ""
		}
	}
	c.log.Warn("console: reference profile unreadable", "model", v.Name, "version", v.Version, "err", err)
	return nil, 0, "The reference profile could not be read: " + err.Error()
}

// maxProfileBytes bounds a reference profile the console reads.
const maxProfileBytes = 64 << 20

// readBlob reads a whole (small) blob.
func (c *console) readBlob(ctx context.Context, b registry.Blob) ([]byte, error) {
	if b.Size > maxProfileBytes {
		return nil, fmt.Errorf("%s is %d bytes, over the console's %d MiB", b.Digest, b.Size, maxProfileBytes>>20)
	}
	rc, err := c.svc.OpenBlob(ctx, b.Digest, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (c *console) nodesPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "nodes", "Nodes", "nodes", c.nodes.List())
}

// driftPanel is one model on one node on the drift page.
type driftPanel struct {
	Node     string
	Model    registry.NodeModel
	Report   *drift.Report
	Features []featureChart
}

func (c *console) driftPage(w http.ResponseWriter, r *http.Request) {
	only := r.URL.Query().Get("model")
	if only != "" {
		if err := registry.ValidateName(only); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	var panels []driftPanel
	for _, n := range c.nodes.List() {
		for _, m := range n.Models {
			if only != "" && m.Model != only {
				continue
			}
			p := driftPanel{Node: n.Node, Model: m}
			if m.Drift != nil && m.Drift.Report != nil {
				p.Report = m.Drift.Report
				for _, group := range [][]drift.FeatureResult{p.Report.Features, p.Report.Outputs} {
					for i := range group {
						f := &group[i]
						fc := featureChart{Name: f.Name, Kind: f.Kind, Ref: f.Reference, Cur: &f.Current, Result: f}
						if f.Kind == drift.Numeric {
							fc.Chart = histogram(f.Edges, f.Reference.Counts, f.Current.Counts)
						} else {
							fc.Chart = categories(f.Reference.Frequencies, f.Current.Frequencies)
						}
						p.Features = append(p.Features, fc)
					}
				}
			}
			panels = append(panels, p)
		}
	}
	sort.SliceStable(panels, func(i, j int) bool { return panels[i].Model.Model < panels[j].Model.Model })
	c.render(w, r, http.StatusOK, "drift", "Drift", "drift", driftData{Model: only, Panels: panels})
}

// driftData is the drift page's data.
type driftData struct {
	Model  string
	Panels []driftPanel
}

// parseTags reads "key=value" lines.
func parseTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, &pageError{status: http.StatusBadRequest, msg: "tags, line " + strconv.Itoa(i+1) + ": want key=value"}
		}
		tags[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return tags, nil
}

// isGateError reports a refused move.
func isGateError(err error) (*registry.GateError, bool) {
	var g *registry.GateError
	return g, errors.As(err, &g)
}
