{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "oomcast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object-name prefix: the release name, plus the chart name unless the release name has it. */}}
{{- define "oomcast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "oomcast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "oomcast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oomcast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "oomcast.labels" -}}
helm.sh/chart: {{ include "oomcast.chart" . }}
{{ include "oomcast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: oomcast
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: (dict "ctx" $ "component" "metrics-adapter"). */}}
{{- define "oomcast.componentLabels" -}}
{{ include "oomcast.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "oomcast.componentSelectorLabels" -}}
{{ include "oomcast.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "oomcast.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end }}

{{- define "oomcast.adapter.fullname" -}}
{{ include "oomcast.fullname" . }}-metrics-adapter
{{- end }}
{{- define "oomcast.controller.fullname" -}}
{{ include "oomcast.fullname" . }}-controller
{{- end }}
{{- define "oomcast.predictor.fullname" -}}
{{ include "oomcast.fullname" . }}-predictor
{{- end }}
{{- define "oomcast.config.name" -}}
{{ include "oomcast.fullname" . }}-config
{{- end }}
{{- /* The serving certificate's source: metricsAdapter.tls.source, with "auto" resolved to
       cert-manager when the cluster serves cert-manager.io/v1 (helm install/upgrade, and helm
       template with --api-versions as Argo CD passes it), else to helm. */}}
{{- define "oomcast.adapter.tlsSource" -}}
{{- $s := .Values.metricsAdapter.tls.source -}}
{{- if eq $s "auto" -}}
{{- if .Capabilities.APIVersions.Has "cert-manager.io/v1/Certificate" -}}cert-manager{{- else -}}helm{{- end -}}
{{- else -}}
{{ $s }}
{{- end -}}
{{- end }}
{{- define "oomcast.adapter.tlsSecretName" -}}
{{- if eq (include "oomcast.adapter.tlsSource" .) "secret" -}}
{{ required "metricsAdapter.tls.secret.name is required when metricsAdapter.tls.source is secret" .Values.metricsAdapter.tls.secret.name }}
{{- else -}}
{{ include "oomcast.adapter.fullname" . }}-tls
{{- end -}}
{{- end }}
{{- define "oomcast.externalMetricsReader.name" -}}
{{ include "oomcast.fullname" . }}-external-metrics-reader
{{- end }}

{{- define "oomcast.adapter.serviceAccountName" -}}
{{- if .Values.metricsAdapter.serviceAccount.create -}}
{{ default (include "oomcast.adapter.fullname" .) .Values.metricsAdapter.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.metricsAdapter.serviceAccount.name }}
{{- end -}}
{{- end }}
{{- define "oomcast.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{ default (include "oomcast.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.controller.serviceAccount.name }}
{{- end -}}
{{- end }}
{{- define "oomcast.predictor.serviceAccountName" -}}
{{- if .Values.predictor.serviceAccount.create -}}
{{ default (include "oomcast.predictor.fullname" .) .Values.predictor.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.predictor.serviceAccount.name }}
{{- end -}}
{{- end }}

{{/* Security contexts: the shared one, with the keys the component sets replacing the shared ones
     (a component can set readOnlyRootFilesystem: false, which a deep merge would lose).
     (dict "ctx" $ "c" .Values.x) */}}
{{- define "oomcast.podSecurityContext" -}}
{{- $r := deepCopy .ctx.Values.podSecurityContext }}
{{- range $k, $v := .c.podSecurityContext }}{{ $_ := set $r $k $v }}{{ end }}
{{- toYaml $r }}
{{- end }}
{{- define "oomcast.securityContext" -}}
{{- $r := deepCopy .ctx.Values.securityContext }}
{{- range $k, $v := .c.securityContext }}{{ $_ := set $r $k $v }}{{ end }}
{{- toYaml $r }}
{{- end }}

{{/* Volumes and mounts every oomcast container has: config, credentials, a writable /tmp. */}}
{{- define "oomcast.commonVolumes" -}}
- name: config
  configMap:
    name: {{ include "oomcast.config.name" . }}
{{- with .Values.prometheusCredentials.existingSecret }}
- name: prometheus-credentials
  secret:
    secretName: {{ . }}
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
{{- define "oomcast.commonVolumeMounts" -}}
- name: config
  mountPath: /etc/oomcast/config.yaml
  subPath: config.yaml
  readOnly: true
{{- if .Values.prometheusCredentials.existingSecret }}
- name: prometheus-credentials
  mountPath: /etc/oomcast/prometheus
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Probe settings of a component: (dict "probe" .Values.x.livenessProbe). */}}
{{- define "oomcast.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}

{{/* Default anti-affinity: prefer one replica per node. (dict "ctx" $ "component" "x" "affinity" .Values.x.affinity) */}}
{{- define "oomcast.affinity" -}}
{{- if .affinity }}
{{- toYaml .affinity }}
{{- else }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "oomcast.componentSelectorLabels" (dict "ctx" .ctx "component" .component) | nindent 12 }}
{{- end }}
{{- end }}

{{- define "oomcast.logLevel" -}}
{{ default .ctx.Values.config.log.level .c.logLevel }}
{{- end }}
{{- /* A component's PriorityClass: its own priorityClassName, else the chart's PriorityClass
       when priorityClass.create (the adapter and controller only: an alerting-only predictor
       is not on the HPA's path). (dict "ctx" $ "c" .Values.<component> "component" NAME) */}}
{{- define "oomcast.priorityClassName" -}}
{{- if .c.priorityClassName -}}
{{ .c.priorityClassName }}
{{- else if and .ctx.Values.priorityClass.create (ne .component "predictor") -}}
{{ include "oomcast.priorityClass.name" .ctx }}
{{- end -}}
{{- end }}
{{- define "oomcast.priorityClass.name" -}}
{{ .Values.priorityClass.name | default (printf "%s-critical" (include "oomcast.fullname" .)) }}
{{- end }}
