{{/* Chart name. */}}
{{- define "pingan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix of every resource. */}}
{{- define "pingan.fullname" -}}
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

{{/* DNS-safe resource name of one service: <fullname>-grid-events[<suffix>], at most
.max (default 63) characters; the prefix is shortened, never the service part, so
names of different services stay distinct. Args: dict root name [suffix] [max] */}}
{{- define "pingan.svcFullname" -}}
{{- $tail := printf "%s%s" (.name | replace "_" "-") (.suffix | default "") -}}
{{- $room := sub (.max | default 63) (add1 (len $tail)) | int -}}
{{- printf "%s-%s" (include "pingan.fullname" .root | trunc $room | trimSuffix "-") $tail -}}
{{- end -}}

{{- define "pingan.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "pingan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pingan
{{- end -}}

{{/* Selector labels of one service's pods. Args: dict root name */}}
{{- define "pingan.svcSelectorLabels" -}}
app.kubernetes.io/name: {{ include "pingan.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name | replace "_" "-" }}
pingan.io/service: {{ .name }}
{{- end -}}

{{/* Full labels of one service's objects. Args: dict root name */}}
{{- define "pingan.svcLabels" -}}
{{ include "pingan.labels" .root }}
app.kubernetes.io/component: {{ .name | replace "_" "-" }}
pingan.io/service: {{ .name }}
{{- end -}}

{{/* Effective values of one service: serviceDefaults overlaid with services.<name>. Args: dict root name. Returns YAML. */}}
{{- define "pingan.svcValues" -}}
{{- $svc := index .root.Values.services .name | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $svc)) -}}
{{- end -}}

{{/* Sorted names of enabled services, as a JSON list. */}}
{{- define "pingan.enabledServices" -}}
{{- $out := list -}}
{{- range $name := keys .Values.services | sortAlpha -}}
{{- $v := include "pingan.svcValues" (dict "root" $ "name" $name) | fromYaml -}}
{{- if $v.enabled -}}{{- $out = append $out $name -}}{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Image reference. Args: dict root svc(effective values) */}}
{{- define "pingan.image" -}}
{{- $img := mergeOverwrite (deepCopy .root.Values.image) (.svc.image | default dict) -}}
{{- printf "%s:%s" $img.repository (default .root.Chart.AppVersion $img.tag) -}}
{{- with $img.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{- define "pingan.imagePullPolicy" -}}
{{- $img := mergeOverwrite (deepCopy .root.Values.image) (.svc.image | default dict) -}}
{{- $img.pullPolicy -}}
{{- end -}}

{{- define "pingan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pingan.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The database URL from a Secret. Args: a {name, key} Secret reference */}}
{{- define "pingan.databaseEnv" -}}
- name: PINGAN_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end -}}

{{/* Environment of the service pods: broker, database, public token and event keys, personal-data key.
Never a private signing key: see pingan.eventSigningEnv (a service's own) and the token-issuer pod.
Args: dict root name */}}
{{- define "pingan.secretEnv" -}}
- name: AMQP_URI
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.amqp.name }}
      key: {{ .root.Values.secrets.amqp.key }}
{{ include "pingan.databaseEnv" .root.Values.secrets.database }}
- name: PINGAN_TOKEN_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.tokenKeys.name }}
      key: {{ .root.Values.secrets.tokenKeys.key }}
- name: PINGAN_EVENT_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.eventPublicKeys.name }}
      key: {{ .root.Values.secrets.eventPublicKeys.key }}
- name: PINGAN_PERSONAL_DATA_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.personalDataKey.name }}
      key: {{ .root.Values.secrets.personalDataKey.key }}
- name: PINGAN_CHAIN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.chainKey.name }}
      key: {{ .root.Values.secrets.chainKey.key }}
{{- end -}}

{{/* The service's own event-signing private key, and nobody else's. Args: dict root name */}}
{{- define "pingan.eventSigningSecretName" -}}
{{ .root.Values.secrets.eventSigningKeys.namePrefix }}{{ .name | replace "_" "-" }}
{{- end -}}

{{- define "pingan.eventSigningEnv" -}}
- name: PINGAN_EVENT_SIGNING_KEY_{{ .name | upper }}
  valueFrom:
    secretKeyRef:
      name: {{ include "pingan.eventSigningSecretName" . }}
      key: {{ .root.Values.secrets.eventSigningKeys.key }}
{{- end -}}

{{/* Checksum of the Secrets a service pod reads, for a pod annotation: `helm upgrade` after a
Secret changed rolls the pods (they read Secrets only at start). `lookup` sees the cluster's
Secrets on install/upgrade (empty under `helm template`, which then hashes the references only).
Between upgrades, roll with `kubectl rollout restart` or a reloader (docs/deploy.md). Args: dict root name */}}
{{- define "pingan.secretsChecksum" -}}
{{- $s := .root.Values.secrets -}}
{{- $seen := list -}}
{{- $own := dict "name" (include "pingan.eventSigningSecretName" .) "key" $s.eventSigningKeys.key -}}
{{- range $ref := list $s.amqp $s.database $s.tokenKeys $s.eventPublicKeys $s.personalDataKey $s.chainKey $own -}}
{{- $found := lookup "v1" "Secret" $.root.Release.Namespace $ref.name | default dict -}}
{{- $seen = append $seen (dict "ref" $ref "data" (get (get $found "data" | default dict) $ref.key | default "")) -}}
{{- end -}}
{{- toJson $seen | sha256sum -}}
{{- end -}}

{{/* Non-secret environment as a map (ConfigMap data, or inline env for hook pods that run before the ConfigMap exists). Args: dict root name svc */}}
{{- define "pingan.configData" -}}
{{- $d := dict
  "PINGAN_SERVICE" .name
  "PINGAN_PERSON_TOKEN_MAX_MINUTES" (toString .root.Values.config.personTokenMaxMinutes)
  "PINGAN_SERVICE_TOKEN_MAX_MINUTES" (toString .root.Values.config.serviceTokenMaxMinutes)
  "PINGAN_LOG_FORMAT" .root.Values.config.logFormat
  "PINGAN_HTTP_ADDRESS" (printf "0.0.0.0:%v" .root.Values.config.httpPort)
  "PINGAN_DATA_DIR" "/tmp/pingan"
-}}
{{- if and .svc.follower .svc.follower.enabled }}{{ $_ := set $d "PINGAN_FOLLOW_LOG" "off" }}{{ end -}}
{{- range $k, $v := .root.Values.config.extraEnv }}{{ $_ := set $d $k (toString $v) }}{{ end -}}
{{- range $k, $v := .svc.config }}{{ $_ := set $d $k (toString $v) }}{{ end -}}
{{- toYaml $d -}}
{{- end -}}

{{- define "pingan.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "pingan.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "pingan.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolumeSizeLimit }}
{{- end -}}

{{- define "pingan.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* <fullname><suffix> in at most .max (default 63) characters, shortening the prefix. Args: dict root suffix [max] */}}
{{- define "pingan.fullnameWith" -}}
{{- $room := sub (.max | default 63) (len .suffix) | int -}}
{{- printf "%s%s" (include "pingan.fullname" .root | trunc $room | trimSuffix "-") .suffix -}}
{{- end -}}

{{/* Name of one service's audit CronJob (at most 52 characters). Args: dict root name kind(checkpoint|verify) */}}
{{- define "pingan.auditCronJobName" -}}
{{- include "pingan.svcFullname" (dict "root" .root "name" .name "suffix" (printf "-audit-%s" .kind) "max" 52) -}}
{{- end -}}

{{/* The checkpoint PVC: auditLog.storage.existingClaim or <fullname>-audit-checkpoints. */}}
{{- define "pingan.auditClaimName" -}}
{{- .Values.auditLog.storage.existingClaim | default (include "pingan.fullnameWith" (dict "root" . "suffix" "-audit-checkpoints")) -}}
{{- end -}}

{{/* Labels of audit job pods. Deliberately NOT the service's selector labels (component,
pingan.io/service), so neither the service's NetworkPolicy nor its Service selects them.
Args: dict root name kind */}}
{{- define "pingan.auditPodLabels" -}}
{{ include "pingan.labels" .root }}
app.kubernetes.io/component: audit
pingan.io/audit: {{ .kind }}
pingan.io/audit-service: {{ .name }}
pingan.io/audit-job: "true"
{{- end -}}
