{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "turnrelay-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names: the release name when it already names the chart. */}}
{{- define "turnrelay-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels for the pod selector; never change them between versions (selectors are immutable). */}}
{{- define "turnrelay-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "turnrelay-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "turnrelay-operator.labels" -}}
{{ include "turnrelay-operator.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: turnrelay
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "turnrelay-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "turnrelay-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount as an RBAC subject list. */}}
{{- define "turnrelay-operator.subjects" -}}
- kind: ServiceAccount
  name: {{ include "turnrelay-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{/* repository@digest when a digest is pinned, else repository:tag (tag defaults to appVersion). */}}
{{- define "turnrelay-operator.imageRef" -}}
{{- $image := index . 0 -}}
{{- $appVersion := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $appVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The operator's permissions, generated from operator/rbac.ts (npm run generate:chart). */}}
{{- define "turnrelay-operator.rbacRules" -}}
{{- .Files.Get "files/operator-rbac.yaml" -}}
{{- end -}}
