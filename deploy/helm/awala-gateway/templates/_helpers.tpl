{{/* Names, labels and shared pieces of the awala-gateway chart. */}}

{{- define "awala-gateway.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-awala-gateway, or the release name when it already contains the chart name. */}}
{{- define "awala-gateway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "awala-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "awala-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "awala-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "awala-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "awala-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "awala-gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "awala-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret holding backend URLs. */}}
{{- define "awala-gateway.backendsSecret" -}}
{{- default (printf "%s-backends" (include "awala-gateway.fullname" .)) .Values.backends.existingSecret -}}
{{- end -}}

{{/* Whether the chart itself makes the backends Secret. */}}
{{- define "awala-gateway.ownsBackendsSecret" -}}
{{- $b := .Values.backends -}}
{{- if and (not $b.existingSecret) (or $b.databaseUrl $b.objectStoreUrl $b.queueUrl $b.pubsubUrl $b.adminToken) -}}
true
{{- end -}}
{{- end -}}

{{/* The Secret holding the key-encryption key (key `kek`). */}}
{{- define "awala-gateway.kekSecret" -}}
{{- default (printf "%s-kek" (include "awala-gateway.fullname" .)) .Values.kek.existingSecret -}}
{{- end -}}

{{/* Container port of each role that listens (workers have only the admin port). */}}
{{- define "awala-gateway.rolePorts" -}}
poweb: 8080
pohttp: 8081
cogrpc: 8082
{{- end -}}
