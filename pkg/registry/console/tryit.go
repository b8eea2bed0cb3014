package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// maxAnswerBytes bounds a node's answer to a try-it request.
const maxAnswerBytes = 4 << 20

// tryData is the try-it page's data.
type tryData struct {
	Model string
	Nodes []registry.Node
	Node  string
	Body  string
	// Version is the version whose signature the form follows.
	Version *registry.Version
	Answer  *tryAnswer
	Error   string
}

// tryAnswer is a node's answer to a prediction.
type tryAnswer struct {
	ModelName    string      `json:"model_name"`
	ModelVersion string      `json:"model_version"`
	Outputs      []tryTensor `json:"outputs"`
	// Raw is the whole answer, indented; Node is the node that answered.
	Raw  string `json:"-"`
	Node string `json:"-"`
}

// tryTensor is one output tensor as JSON carries it.
type tryTensor struct {
	Name     string          `json:"name"`
	Datatype string          `json:"datatype"`
	Shape    []int64         `json:"shape"`
	Data     json.RawMessage `json:"data"`
}

// DataText is the tensor's data, cut short when long.
func (t tryTensor) DataText() string {
	s := string(t.Data)
	if len(s) > 2000 {
		return s[:2000] + " …"
	}
	return s
}

// tryPage shows a prediction form for a model, prefilled with the input
// example of the version a node serves, or inputs shaped by its signature.
func (c *console) tryPage(w http.ResponseWriter, r *http.Request) {
	d, err := c.tryForm(r, r.PathValue("name"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "try", "Try "+d.Model, "models", d)
}

func (c *console) tryForm(r *http.Request, name string) (*tryData, error) {
	m, err := c.svc.GetModel(r.Context(), name)
	if err != nil {
		return nil, err
	}
	d := &tryData{Model: m.Name, Nodes: c.nodes.ServedBy(name)}
	n := m.LatestVersion
	if len(d.Nodes) > 0 {
		d.Node = d.Nodes[0].Node
		if v := d.Nodes[0].Models[0].Version; v > 0 {
			n = v
		}
	}
	if n > 0 {
		if d.Version, err = c.svc.Resolve(r.Context(), registry.Ref{Name: name, Version: n}); err != nil {
			return nil, err
		}
		d.Body = exampleRequest(d.Version)
	}
	return d, nil
}

// try sends one prediction to the chosen node, from the registry, and
// shows the outputs. Only a node that reported serving the model is asked,
// and only its /v2/models/{model}/infer.
func (c *console) try(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, err := c.tryForm(r, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Node, d.Body = r.PostFormValue("node"), r.PostFormValue("body")
	answer, status, msg := c.predict(r, d.Node, name, d.Body)
	d.Answer, d.Error = answer, msg
	c.render(w, r, status, "try", "Try "+d.Model, "models", d)
}

// predict proxies one request to a node; on failure it returns the status
// and message to show.
func (c *console) predict(r *http.Request, nodeID, model, body string) (*tryAnswer, int, string) {
	node, ok := c.nodes.Get(nodeID)
	if !ok || node.Model(model) == nil {
		return nil, http.StatusBadRequest, fmt.Sprintf("node %q does not serve %s now: pick one of the list", nodeID, model)
	}
	if !json.Valid([]byte(body)) {
		return nil, http.StatusBadRequest, "the request is not valid JSON: write an Open Inference Protocol request, {\"inputs\": [...]}"
	}
	target := node.Address + "/v2/models/" + url.PathEscape(model) + "/infer"
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, http.StatusBadGateway, "node " + node.Node + " at " + node.Address + " did not answer: " + err.Error()
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil || len(data) > maxAnswerBytes {
		return nil, http.StatusBadGateway, "node " + node.Node + "'s answer was cut off or over 4 MiB"
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		status := resp.StatusCode
		if status < 400 || status >= 500 {
			status = http.StatusBadGateway
		}
		return nil, status, fmt.Sprintf("node %s answered %d: %s", node.Node, resp.StatusCode, e.Error)
	}
	var a tryAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, http.StatusBadGateway, "node " + node.Node + "'s answer is not an inference response: " + err.Error()
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, data, "", "  ")
	a.Raw, a.Node = pretty.String(), node.Node
	return &a, http.StatusOK, ""
}

// exampleRequest is the version's input example, or a request of zeros
// shaped by its signature (dynamic dimensions as 1).
func exampleRequest(v *registry.Version) string {
	if len(v.InputExample) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, v.InputExample, "", "  ") == nil {
			return buf.String()
		}
	}
	type input struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
		Data     []any   `json:"data"`
	}
	var req struct {
		Inputs []input `json:"inputs"`
	}
	for _, in := range v.Signature.Inputs {
		if in.Datatype == "" {
			continue
		}
		shape := make([]int64, len(in.Shape))
		count := int64(1)
		for i, d := range in.Shape {
			shape[i] = max(d, 1)
			count *= shape[i]
		}
		zero := any(0)
		switch in.Datatype {
		case "BYTES":
			zero = ""
		case "BOOL":
			zero = false
		}
		data := make([]any, min(count, 10000))
		for i := range data {
			data[i] = zero
		}
		req.Inputs = append(req.Inputs, input{Name: in.Name, Datatype: in.Datatype, Shape: shape, Data: data})
	}
	out, _ := json.MarshalIndent(req, "", "  ")
	return string(out)
}
