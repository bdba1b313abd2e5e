{{/*
Deployment, Service and PodDisruptionBudget of a component serving plain HTTP on 8080
(/metrics, /healthz, /readyz): the controller and the standalone predictor.
(dict "ctx" $ "component" "controller" "v" .Values.controller "name" "..." "serviceAccountName" "..."
      "binary" "oomcast-controller" "args" (list ...) "automount" true
      ["extraVolumes" (list ...) "extraVolumeMounts" (list ...)])
*/}}
{{- define "oomcast.httpWorkload" -}}
{{- $ctx := .ctx }}
{{- $v := .v }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "oomcast.componentLabels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "oomcast.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "oomcast.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $ctx.Template.BasePath "/configmap.yaml") $ctx | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .serviceAccountName }}
      automountServiceAccountToken: {{ .automount }}
      {{- with $ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "oomcast.priorityClassName" (dict "ctx" $ctx "c" $v "component" .component) }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- include "oomcast.podSecurityContext" (dict "ctx" $ctx "c" $v) | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "oomcast.image" $ctx }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          command: [{{ printf "/usr/local/bin/%s" .binary | quote }}]
          args:
            {{- range .args }}
            - {{ . | quote }}
            {{- end }}
            {{- range $v.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            {{- include "oomcast.probeTimings" $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            {{- include "oomcast.probeTimings" $v.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "oomcast.securityContext" (dict "ctx" $ctx "c" $v) | nindent 12 }}
          volumeMounts:
            {{- include "oomcast.commonVolumeMounts" $ctx | nindent 12 }}
            {{- with .extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "oomcast.commonVolumes" $ctx | nindent 8 }}
        {{- with .extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      affinity:
        {{- include "oomcast.affinity" (dict "ctx" $ctx "component" .component "affinity" $v.affinity) | trim | nindent 8 }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "oomcast.componentLabels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "oomcast.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
  ports:
    - name: http-metrics
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
{{- if and $v.podDisruptionBudget $v.podDisruptionBudget.enabled (gt (int $v.replicas) 1) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "oomcast.componentLabels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "oomcast.componentSelectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
{{- end }}
{{- end }}
