{{/* The release's name for every object, within Kubernetes' 63 characters. */}}
{{- define "integration-runner.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "integration-runner.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
integration.org/mode: {{ .Values.mode | quote }}
{{- end -}}

{{- define "integration-runner.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "integration-runner.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The service catalog generated from the declarations (pnpm helm:services). */}}
{{- define "integration-runner.catalog" -}}
{{- (.Files.Get "files/services.yaml" | fromYaml).services | toYaml -}}
{{- end -}}

{{/* The selected services' names: .Values.services, or every service in the catalog. */}}
{{- define "integration-runner.selected" -}}
{{- $catalog := include "integration-runner.catalog" . | fromYaml -}}
{{- if .Values.services -}}
{{- toYaml (dict "names" .Values.services) -}}
{{- else -}}
{{- toYaml (dict "names" (keys $catalog | sortAlpha)) -}}
{{- end -}}
{{- end -}}

{{/*
Every check on the values, before anything renders: each failure says what is wrong and how to fix it.
*/}}
{{- define "integration-runner.validate" -}}
{{- $modes := list "repo" "local" "cluster" -}}
{{- if not .Values.mode -}}
{{- fail "mode is required: set it to repo, local or cluster (e.g. --set mode=cluster); the chart never picks a mode" -}}
{{- end -}}
{{- if not (kindIs "string" .Values.mode) -}}
{{- fail (printf "mode %v is not a mode: set it to repo, local or cluster" .Values.mode) -}}
{{- end -}}
{{- if not (has .Values.mode $modes) -}}
{{- fail (printf "mode %q is not a mode: set it to repo, local or cluster (exact, lower case)" .Values.mode) -}}
{{- end -}}
{{- $catalog := include "integration-runner.catalog" . | fromYaml -}}
{{- if not $catalog -}}
{{- fail "files/services.yaml holds no service: run pnpm helm:services" -}}
{{- end -}}
{{- range .Values.services -}}
{{- if not (hasKey $catalog (toString .)) -}}
{{- fail (printf "services: %q is not a service with integration suites; known: %s" (toString .) (keys $catalog | sortAlpha | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- $shards := .Values.shards -}}
{{- if not (or (kindIs "int64" $shards) (kindIs "int" $shards) (kindIs "float64" $shards)) -}}
{{- fail (printf "shards %q is not a number: write a whole number from 1 to 64 (one Job index per shard; --set, not --set-string)" (toString $shards)) -}}
{{- end -}}
{{- if or (ne (float64 (int64 $shards)) (float64 $shards)) (lt (int64 $shards) 1) (gt (int64 $shards) 64) -}}
{{- fail (printf "shards %v must be a whole number from 1 to 64 (one Job index per shard)" $shards) -}}
{{- end -}}
{{- range $key, $value := .Values.config -}}
{{- if hasPrefix "INTEGRATION_" $key -}}
{{- fail (printf "config.%s: INTEGRATION_* variables are the chart's own (mode, services and shards come from their values); remove it" $key) -}}
{{- end -}}
{{- if regexMatch "(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL)" $key -}}
{{- fail (printf "config.%s looks like a secret: values must never hold one; put it in a Secret and name it in existingSecret and existingSecretKeys" $key) -}}
{{- end -}}
{{- if regexMatch "://[^/@\\s]*:[^/@\\s]*@" (toString $value) -}}
{{- fail (printf "config.%s holds a URL with a password: values must never hold one; put it in a Secret and name it in existingSecret and existingSecretKeys" $key) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.existingSecretKeys (not .Values.existingSecret) -}}
{{- fail "existingSecretKeys lists variables but existingSecret names no Secret" -}}
{{- end -}}
{{- if and .Values.existingConfigMapKeys (not .Values.existingConfigMap) -}}
{{- fail "existingConfigMapKeys lists variables but existingConfigMap names no ConfigMap" -}}
{{- end -}}
{{- if eq .Values.mode "cluster" -}}
{{- $provided := concat (keys .Values.config) .Values.existingConfigMapKeys .Values.existingSecretKeys -}}
{{- $missing := list -}}
{{- range (include "integration-runner.selected" . | fromYaml).names -}}
{{- $service := . -}}
{{- range (get $catalog (toString $service)).variables -}}
{{- if not (has . $provided) -}}
{{- $missing = append $missing (printf "%s (%s)" . $service) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $missing -}}
{{- fail (printf "cluster mode needs every variable the selected services declare; not provided by config, existingConfigMapKeys or existingSecretKeys: %s" (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
