package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renderNotes renders the chart's NOTES.txt with the given helm flags. helm
// template leaves NOTES.txt out (and helm install --dry-run wants a
// cluster), so a copy of the chart turns it into a named template and
// renders it into a ConfigMap.
func renderNotes(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kiln")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "tests"))
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "templates", "NOTES.txt"))
	define := `{{- define "kilntest.notes" -}}` + string(notes) + `{{- end -}}`
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include \"kilntest.notes\" . | toJson }}\n"
	for name, text := range map[string]string{"_kilntest_notes.tpl": define, "kilntest-notes.yaml": cm} {
		if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runHelm(t, append([]string{"template", "kiln", dir, "--namespace", "ml", "--show-only", "templates/kilntest-notes.yaml"}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	return m.ConfigMaps["notes"].Data["notes"]
}

// TestNotesTrial: after an install with no values, NOTES.txt says how to
// reach the registry with the generated token, push a model (naming the
// column flags of push --reference), point a node at it and move to S3.
func TestNotesTrial(t *testing.T) {
	notes := renderNotes(t)
	for _, want := range []string{
		"1 replica, models in a folder on PersistentVolumeClaim kiln-registry",
		"kubectl -n ml port-forward svc/kiln-registry 8081:8081",
		"export KILN_TOKEN=$(kubectl -n ml get secret kiln-tokens -o jsonpath='{.data.admin}' | base64 -d)",
		"kiln push iris model.onnx", "--reference reference.csv", "--features A,B,C or --mapping FILE",
		"kiln alias set iris production 1",
		"--reuse-values --set 'models[0].ref=iris@production'",
		"--reuse-values --set s3.bucket=BUCKET",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
	// Production values keep the production notes: no trial advice.
	notes = renderNotes(t, "-f", ciValues("full-values.yaml"))
	for _, unwanted := range []string{"trial", "kiln-tokens", "s3.bucket=BUCKET"} {
		if strings.Contains(notes, unwanted) {
			t.Errorf("NOTES.txt for full-values.yaml mentions %q:\n%s", unwanted, notes)
		}
	}
	if !strings.Contains(notes, "3 replicas, models in s3://acme-ml-models/kiln") {
		t.Errorf("NOTES.txt for full-values.yaml:\n%s", notes)
	}
}
