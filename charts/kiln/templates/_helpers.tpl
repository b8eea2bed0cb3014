{{/* Names, labels, images and the small pieces shared by several templates. */}}

{{- define "kiln.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kiln.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: kiln.component (dict "root" $ "name" "registry"). */}}
{{- define "kiln.component" -}}
{{- printf "%s-%s" (include "kiln.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kiln.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "kiln.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kiln
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: kiln.selector (dict "root" $ "component" "registry" "model" "iris"). */}}
{{- define "kiln.selector" -}}
app.kubernetes.io/name: {{ include "kiln.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .model }}
kiln.dev/model: {{ . }}
{{- end }}
{{- end -}}

{{- define "kiln.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kiln.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference: kiln.image (dict "root" $ "image" .Values.image.serve). */}}
{{- define "kiln.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The registry URL the serving nodes and batch jobs use. */}}
{{- define "kiln.registryURL" -}}
{{- if .Values.registry.enabled -}}
{{- printf "http://%s:%v" (include "kiln.component" (dict "root" . "name" "registry")) .Values.registry.service.port -}}
{{- else -}}
{{- required "registry.externalURL is required when registry.enabled is false" .Values.registry.externalURL -}}
{{- end -}}
{{- end -}}

{{/* The S3 bucket, endpoint and credentials Secret, bundled server or external. */}}
{{- define "kiln.s3.bucket" -}}
{{- if .Values.s3Server.enabled -}}
{{- .Values.s3Server.bucket -}}
{{- else -}}
{{- required "s3.bucket is required with registry.storage=s3: name an existing bucket, set s3Server.enabled=true, or leave registry.storage empty for a trial on a volume" .Values.s3.bucket -}}
{{- end -}}
{{- end -}}

{{/* Where the registry keeps models: registry.storage, or when that is empty
"s3" if a bucket or the bundled S3 server is set and "file" (a volume) if not. */}}
{{- define "kiln.registry.storage" -}}
{{- $s := .Values.registry.storage -}}
{{- if not $s -}}
{{- $s = ternary "s3" "file" (or .Values.s3Server.enabled (ne .Values.s3.bucket "")) -}}
{{- end -}}
{{- $s -}}
{{- end -}}

{{/* The registry's replicas: registry.replicas, else 2 on S3; file storage is one volume with one writer. */}}
{{- define "kiln.registry.replicas" -}}
{{- $r := .Values.registry.replicas -}}
{{- if eq (include "kiln.registry.storage" .) "file" -}}
{{- if and (not (kindIs "invalid" $r)) (gt (int $r) 1) -}}
{{- fail (printf "registry.replicas is %v, but file storage (registry.storage=file) has one volume and one writer: set it to 1, or keep models in S3 (s3.bucket or s3Server.enabled) to run more" $r) -}}
{{- end -}}
{{- ternary 1 $r (kindIs "invalid" $r) -}}
{{- else -}}
{{- ternary 2 $r (kindIs "invalid" $r) -}}
{{- end -}}
{{- end -}}

{{/* The registry's PersistentVolumeClaim with file storage. */}}
{{- define "kiln.registry.claim" -}}
{{- default (include "kiln.component" (dict "root" . "name" "registry")) .Values.registry.persistence.existingClaim -}}
{{- end -}}

{{/* "true" when the chart generates the registry tokens: auth on, the registry in this release, no tokensSecret. */}}
{{- define "kiln.auth.generated" -}}
{{- if and .Values.auth.enabled .Values.registry.enabled (not .Values.auth.tokensSecret) -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the registry's tokens file: auth.tokensSecret, or the generated one. */}}
{{- define "kiln.auth.tokensSecret" -}}
{{- default (include "kiln.component" (dict "root" . "name" "tokens")) .Values.auth.tokensSecret -}}
{{- end -}}

{{- define "kiln.s3.endpoint" -}}
{{- if .Values.s3Server.enabled -}}
{{- printf "http://%s:%v" (include "kiln.component" (dict "root" . "name" "s3")) .Values.s3Server.port -}}
{{- else -}}
{{- .Values.s3.endpoint -}}
{{- end -}}
{{- end -}}

{{- define "kiln.s3.secret" -}}
{{- if .Values.s3Server.enabled -}}
{{- default (include "kiln.component" (dict "root" . "name" "s3")) .Values.s3Server.existingSecret -}}
{{- else -}}
{{- .Values.s3.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* S3 environment of a container: endpoint, region, path style and static credentials when a Secret is named. */}}
{{- define "kiln.s3.env" -}}
{{- $endpoint := include "kiln.s3.endpoint" . -}}
{{- if $endpoint }}
- name: KILN_S3_ENDPOINT
  value: {{ $endpoint | quote }}
{{- end }}
{{- if .Values.s3.region }}
- name: KILN_S3_REGION
  value: {{ .Values.s3.region | quote }}
- name: AWS_REGION
  value: {{ .Values.s3.region | quote }}
{{- end }}
{{- if or .Values.s3.pathStyle .Values.s3Server.enabled }}
- name: KILN_S3_PATH_STYLE
  value: "true"
{{- end }}
{{- $secret := include "kiln.s3.secret" . -}}
{{- if $secret }}
{{- $idKey := ternary "rootUser" .Values.s3.accessKeyIdKey .Values.s3Server.enabled }}
{{- $secretKey := ternary "rootPassword" .Values.s3.secretAccessKeyKey .Values.s3Server.enabled }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $idKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $secretKey }}
{{- end }}
{{- end -}}

{{/* KILN_TOKEN for registry clients (serving nodes, batch jobs). */}}
{{- define "kiln.clientToken.env" -}}
{{- if .Values.auth.enabled }}
{{- $name := .Values.auth.clientTokenSecret }}
{{- $key := .Values.auth.clientTokenKey }}
{{- if include "kiln.auth.generated" . }}
{{- $name = include "kiln.auth.tokensSecret" . }}
{{- $key = "reader" }}
{{- end }}
- name: KILN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ required "auth.clientTokenSecret is required when auth.tokensSecret is set: name a Secret holding a registry token for the serving nodes" $name }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{/* A serving Deployment's settings: serve defaults overridden by the models entry. */}}
{{- define "kiln.serve.settings" -}}
{{- $keys := list "replicas" "resources" "autoscaling" "pdb" "cacheSize" "cacheInMemory" "startupProbe" "nodeSelector" "tolerations" "affinity" "topologySpreadConstraints" "priorityClassName" "podAnnotations" "podLabels" "extraArgs" "extraEnv" -}}
{{- $merged := deepCopy .root.Values.serve -}}
{{- range $k := $keys -}}
{{- if hasKey $.model $k -}}
{{- $v := index $.model $k -}}
{{- if and (kindIs "map" $v) (kindIs "map" (index $merged $k)) -}}
{{- $_ := set $merged $k (mergeOverwrite (deepCopy (index $merged $k)) $v) -}}
{{- else -}}
{{- $_ := set $merged $k $v -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* The model name of a reference NAME@REF. */}}
{{- define "kiln.refModel" -}}
{{- $parts := splitList "@" . -}}
{{- if ne (len $parts) 2 -}}
{{- fail (printf "model ref %q: want NAME@ALIAS or NAME@VERSION" .) -}}
{{- end -}}
{{- first $parts -}}
{{- end -}}

{{/* The suffix of a models entry's resources: its name, or the model name of its ref. */}}
{{- define "kiln.serve.name" -}}
{{- default (include "kiln.refModel" .ref) .name | replace "." "-" | replace "_" "-" | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The kiln-serve settings file (--config) of a models entry:
defaults from serve.modelDefaults, then models.<NAME> with the entry's own settings. */}}
{{- define "kiln.serve.config" -}}
{{- $settings := dict -}}
{{- range $k := list "batching" "request_timeout" "drift" "gates" "intra_op_threads" "inter_op_threads" "canary" "shadow" "sticky" "rollback" -}}
{{- if hasKey $.model $k -}}
{{- $_ := set $settings $k (index $.model $k) -}}
{{- end -}}
{{- end -}}
{{- $file := dict "models" (dict (include "kiln.refModel" .model.ref) $settings) -}}
{{- with .root.Values.serve.modelDefaults -}}
{{- $_ := set $file "defaults" . -}}
{{- end -}}
{{- toYaml $file -}}
{{- end -}}

{{/* Pod labels: the selector, the release version and commonLabels (not the chart version, so a chart bump alone restarts no pod). */}}
{{- define "kiln.podLabels" -}}
{{ include "kiln.selector" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* kiln-serve's --cache-max-bytes: three quarters of the cache emptyDir (a "4Gi" or "512Mi" size), leaving room for a download in progress. */}}
{{- define "kiln.serve.cacheMaxBytes" -}}
{{- $n := regexReplaceAll "(Mi|Gi)$" . "" | int64 -}}
{{- $unit := ternary 1073741824 1048576 (hasSuffix "Gi" .) -}}
{{- div (mul $n $unit 3) 4 -}}
{{- end -}}
