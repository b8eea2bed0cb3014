// Package registry is the model registry's domain (models, versions,
// aliases, references, events, node heartbeats) and its Go client, shared by
// kiln, kiln-serve and the registry's own server.
package registry

import (
	"encoding/json"
	"time"

	"github.com/kilnml/kiln/pkg/validate"
)

// Model is a named series of versions.
type Model struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by,omitempty"`
	// LatestVersion is the highest version number pushed (0 before the first).
	LatestVersion int `json:"latest_version"`
	// Aliases maps each alias of the model to its version.
	Aliases map[string]int `json:"aliases,omitempty"`
	// Policy is the model's validation policy (nil: none set).
	Policy *validate.Policy `json:"policy,omitempty"`
}

// Version is the manifest of one immutable model version: the model bytes are
// the blob named by Digest; metrics and tags may be added later.
type Version struct {
	Name        string             `json:"name"`
	Version     int                `json:"version"`
	Digest      string             `json:"digest"`
	Size        int64              `json:"size"`
	Signature   Signature          `json:"signature"`
	Format      Format             `json:"format"`
	Description string             `json:"description,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Params      map[string]string  `json:"params,omitempty"`
	Tags        map[string]string  `json:"tags,omitempty"`
	Lineage     Lineage            `json:"lineage"`
	// InputExample is an Open Inference Protocol inference request (JSON).
	InputExample json.RawMessage `json:"input_example,omitempty"`
	// ReferenceProfile is the reference-data profile blob used for drift detection.
	ReferenceProfile *Blob `json:"reference_profile,omitempty"`
	// DeletedAt is set once the version is deleted; deleted versions keep
	// their number reserved and are never served.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// Validations are the latest validation reports recorded on the
	// version (kiln validate --record), oldest first.
	Validations []validate.Report `json:"validations,omitempty"`
}

// Ref returns the version's reference, "name@N".
func (v *Version) Ref() Ref { return Ref{Name: v.Name, Version: v.Version} }

// Blob is a content-addressed byte stream in the registry.
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Signature lists a model's graph inputs and outputs.
type Signature struct {
	Inputs  []TensorSpec `json:"inputs"`
	Outputs []TensorSpec `json:"outputs"`
}

// TensorSpec describes one graph input or output.
type TensorSpec struct {
	Name string `json:"name"`
	// Type is the ONNX type, e.g. "tensor(float)[batch,4]".
	Type string `json:"type"`
	// Datatype is the OIP element type ("FP32", "INT64", ...); empty for
	// values that are not tensors of an OIP type.
	Datatype string `json:"datatype,omitempty"`
	// Shape has one entry per dimension, -1 for a dynamic one; nil when the
	// rank is unknown.
	Shape []int64 `json:"shape"`
}

// Format describes the ONNX file: IR version, producer and operator sets.
type Format struct {
	IRVersion       int64            `json:"ir_version"`
	Producer        string           `json:"producer,omitempty"`
	ProducerVersion string           `json:"producer_version,omitempty"`
	Opsets          map[string]int64 `json:"opsets"`
}

// Lineage records where a version came from.
type Lineage struct {
	// SourceRun is the training run id or URL.
	SourceRun     string    `json:"source_run,omitempty"`
	DatasetDigest string    `json:"dataset_digest,omitempty"`
	GitCommit     string    `json:"git_commit,omitempty"`
	CreatedBy     string    `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// PushRequest is the metadata sent with a model's bytes.
type PushRequest struct {
	// Digest is the sha256 of the model bytes, "sha256:<hex>"; the registry
	// verifies it while storing the bytes.
	Digest       string             `json:"digest"`
	Description  string             `json:"description,omitempty"`
	Metrics      map[string]float64 `json:"metrics,omitempty"`
	Params       map[string]string  `json:"params,omitempty"`
	Tags         map[string]string  `json:"tags,omitempty"`
	Lineage      Lineage            `json:"lineage"`
	InputExample json.RawMessage    `json:"input_example,omitempty"`
	// ReferenceProfileDigest names a reference profile sent in the same push
	// (before the model) or earlier.
	ReferenceProfileDigest string `json:"reference_profile_digest,omitempty"`
}

// VersionUpdate adds or replaces metrics and tags of a version, and
// replaces its description when Description is set.
type VersionUpdate struct {
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Tags        map[string]string  `json:"tags,omitempty"`
	Description *string            `json:"description,omitempty"`
}

// Alias points a name such as "production" at one version of a model.
type Alias struct {
	Model     string    `json:"model"`
	Alias     string    `json:"alias"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	By        string    `json:"by,omitempty"`
	// Report is the gate report of the move that answered with this alias
	// (protected aliases only).
	Report *validate.Report `json:"report,omitempty"`
}

// SetAliasRequest moves an alias. With Expect set the move happens only if the
// alias is currently at that version (0: only if the alias does not exist).
type SetAliasRequest struct {
	Version int  `json:"version"`
	Expect  *int `json:"expect,omitempty"`
	// Force moves a protected alias even when the version fails its gates
	// (admin role only; audited with the report).
	Force bool `json:"force,omitempty"`
}

// Event types of the audit log.
const (
	EventPush          = "push"
	EventVersionUpdate = "version_update"
	EventVersionDelete = "version_delete"
	EventAliasSet      = "alias_set"
	EventAliasDelete   = "alias_delete"
	// EventAliasRefused: a protected alias move refused by the gates.
	EventAliasRefused = "alias_refused"
	EventPolicySet    = "policy_set"
	// EventValidation: a validation report recorded on a version.
	EventValidation = "validation"
	// EventRolloutStopped: a serving node stopped a canary or a shadow by its rollback rules.
	EventRolloutStopped = "rollout.stopped"
)

// Event is one entry of a model's append-only audit log.
type Event struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Model   string    `json:"model"`
	Version int       `json:"version,omitempty"`
	Alias   string    `json:"alias,omitempty"`
	// From is the alias's previous version on alias events (0: none).
	From    int                `json:"from,omitempty"`
	Digest  string             `json:"digest,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Tags    map[string]string  `json:"tags,omitempty"`
	// Description is the new description on version_update events that set one.
	Description *string `json:"description,omitempty"`
	By          string  `json:"by,omitempty"`
	// Forced marks an alias move made with --force despite failed gates.
	Forced bool `json:"forced,omitempty"`
	// Report is the gate report of a protected alias move or a recorded validation.
	Report *validate.Report `json:"report,omitempty"`
	// Policy is the new policy on policy_set events.
	Policy *validate.Policy `json:"policy,omitempty"`
	// Role, Node and Reason say, on rollout events, which part of the
	// rollout stopped (canary, shadow), on which serving node, and why.
	Role   string `json:"role,omitempty"`
	Node   string `json:"node,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RolloutReport is what a serving node reports when it stops a canary or a
// shadow (POST /api/v1/models/{name}/rollout-events).
type RolloutReport struct {
	Role    string `json:"role"`
	Version int    `json:"version"`
	Node    string `json:"node"`
	Reason  string `json:"reason"`
}

// ModelList is one page of models.
type ModelList struct {
	Models        []Model `json:"models"`
	NextPageToken string  `json:"next_page_token,omitempty"`
}

// VersionList is one page of a model's versions, oldest first.
type VersionList struct {
	Versions      []Version `json:"versions"`
	NextPageToken string    `json:"next_page_token,omitempty"`
}

// AliasList holds all aliases of a model.
type AliasList struct {
	Aliases []Alias `json:"aliases"`
}

// EventList is one page of a model's events, oldest first.
type EventList struct {
	Events        []Event `json:"events"`
	NextPageToken string  `json:"next_page_token,omitempty"`
}

// Page selects one page of a list: Size items after Token (from the
// previous page's NextPageToken; empty for the first page).
type Page struct {
	Token string
	Size  int
}

// Part names of a push request (multipart/form-data, in this order).
const (
	PartMeta             = "meta"
	PartReferenceProfile = "reference_profile"
	PartModel            = "model"
)
