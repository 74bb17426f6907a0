{{/*
Name of every object the chart creates: the release name, with the chart name appended unless the release
name already contains it (so `helm install lifecycle-operator .` gives plain "lifecycle-operator").
*/}}
{{- define "lifecycle-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Labels on every object. app.kubernetes.io/name is always the chart name: the ServiceMonitor takes the
Prometheus job label from it, and the alert rules select job="lifecycle-operator".
*/}}
{{- define "lifecycle-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "lifecycle-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lifecycle-operator
{{- end -}}

{{- define "lifecycle-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "lifecycle-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lifecycle-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "lifecycle-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The namespaces the operator watches in namespaced mode, as a list (JSON, for fromJsonArray). */}}
{{- define "lifecycle-operator.catalogueNamespace" -}}
{{- .Values.catalogue.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "lifecycle-operator.watchNamespaces" -}}
{{- $watched := .Values.watchNamespaces | default (list .Release.Namespace) -}}
{{- if .Values.catalogue.enabled -}}
{{- $watched = append $watched (include "lifecycle-operator.catalogueNamespace" .) | uniq -}}
{{- end -}}
{{- toJson $watched -}}
{{- end -}}

{{/* The kopf peering name, empty when peering is off. */}}
{{- define "lifecycle-operator.peeringName" -}}
{{- if .Values.peering.enabled -}}
{{- default (include "lifecycle-operator.fullname" .) .Values.peering.name -}}
{{- end -}}
{{- end -}}

{{- define "lifecycle-operator.bindAddress" -}}
{{- if .Values.bindAddress -}}
{{- .Values.bindAddress -}}
{{- else if .Values.hostNetwork -}}
127.0.0.1
{{- else -}}
0.0.0.0
{{- end -}}
{{- end -}}

{{/*
Settings that cannot be expressed in values.schema.json with a message a person can act on. Included by
the Deployment, so every render checks them.
*/}}
{{- define "lifecycle-operator.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.peering.enabled) -}}
{{- fail "replicas > 1 needs peering.enabled=true: without kopf peering every replica would handle every LifecycleTest" -}}
{{- end -}}
{{- if and .Values.clusterWide .Values.watchNamespaces -}}
{{- fail "watchNamespaces is only used when clusterWide is false: set one or the other" -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) -}}
{{- fail "metrics.port and health.port must differ" -}}
{{- end -}}
{{- end -}}

{{/*
The namespaced rules the operator needs, shared by the per-namespace Role and the cluster-wide ClusterRole.
Keep this list equal to the one in README.md and tests/packaging/test_rbac.py.
*/}}
{{- define "lifecycle-operator.rules" -}}
- apiGroups: ["lifecycle.conformance.dev"]
  resources: ["lifecycletests"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["lifecycle.conformance.dev"]
  resources: ["lifecycletests/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "delete", "get", "list", "watch", "patch"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
