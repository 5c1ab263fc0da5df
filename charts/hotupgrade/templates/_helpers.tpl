{{/*
Names, labels and image references shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "hotupgrade.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every resource name: fullnameOverride, or <release>-<name>, or the release
name alone when it already contains the chart name (a release called "hotupgrade" gives
"hotupgrade", not "hotupgrade-hotupgrade"). 63 characters at most (a DNS label).
*/}}
{{- define "hotupgrade.fullname" -}}
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

{{/* <fullname>-<suffix>, kept within 63 characters. */}}
{{- define "hotupgrade.componentName" -}}
{{- $suffix := index . 1 -}}
{{- printf "%s-%s" (include "hotupgrade.fullname" (index . 0) | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "hotupgrade.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object but name and instance. */}}
{{- define "hotupgrade.commonLabels" -}}
helm.sh/chart: {{ include "hotupgrade.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hotupgrade
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of the chart's objects other than the controller's. */}}
{{- define "hotupgrade.labels" -}}
app.kubernetes.io/name: {{ include "hotupgrade.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "hotupgrade.commonLabels" . }}
{{- end -}}

{{/*
Selector labels of the controller pods. The name is always "hotupgrade" (not
nameOverride): tools and the project's tests find the controller by it.
*/}}
{{- define "hotupgrade.controller.selectorLabels" -}}
app.kubernetes.io/name: hotupgrade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* Labels of the controller's Deployment, pods, Service and PodDisruptionBudget. */}}
{{- define "hotupgrade.controller.labels" -}}
{{ include "hotupgrade.controller.selectorLabels" . }}
{{ include "hotupgrade.commonLabels" . }}
{{- end -}}

{{/*
Selector labels of the hub pods (hub mode, issue #6): the controller's name and instance,
component "hub", so that neither selector matches the other's pods.
*/}}
{{- define "hotupgrade.hub.selectorLabels" -}}
app.kubernetes.io/name: hotupgrade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hub
{{- end -}}

{{/* Labels of the hub's Deployment, pods, ServiceAccount, RBAC, Service and PodDisruptionBudget. */}}
{{- define "hotupgrade.hub.labels" -}}
{{ include "hotupgrade.hub.selectorLabels" . }}
{{ include "hotupgrade.commonLabels" . }}
{{- end -}}

{{/* The hub's own ServiceAccount: <fullname>-hub. */}}
{{- define "hotupgrade.hub.serviceAccountName" -}}
{{- include "hotupgrade.componentName" (list . "hub") -}}
{{- end -}}

{{/*
Labels of what memberAccess creates on a member cluster: the account a hub uses there.
*/}}
{{- define "hotupgrade.memberAccess.labels" -}}
{{ include "hotupgrade.labels" . }}
app.kubernetes.io/component: hub-access
{{- end -}}

{{- define "hotupgrade.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hotupgrade.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: set the name of an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
An image reference: images.<name>.override, or <image.registry>/<images.<name>.repository>:<tag>
with the tag image.tag or the chart's appVersion. Called as
(include "hotupgrade.image" (list . "controller")).
*/}}
{{- define "hotupgrade.image" -}}
{{- $root := index . 0 -}}
{{- $image := index $root.Values.images (index . 1) -}}
{{- if $image.override -}}
{{- $image.override -}}
{{- else -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) $image.repository (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The controller's RBAC rules on what it reconciles. Each verb is one the code uses
(docs/chart.md, "RBAC"); nothing is a wildcard.
*/}}
{{- define "hotupgrade.controller.rules" -}}
# The informer lists and watches HotDeployments; an automatic rollback JSON-patches the
# image back into the spec.
- apiGroups: ["hotupgrade.io"]
  resources: ["hotdeployments"]
  verbs: ["list", "watch", "patch"]
# Conditions, batch progress and replica counts, through the status subresource.
- apiGroups: ["hotupgrade.io"]
  resources: ["hotdeployments/status"]
  verbs: ["patch"]
# Pods carry an owner reference with blockOwnerDeletion; the OwnerReferencesPermissionEnforcement
# admission plugin (OpenShift, some hardened clusters) allows that only with update on the
# owner's finalizers.
- apiGroups: ["hotupgrade.io"]
  resources: ["hotdeployments/finalizers"]
  verbs: ["update"]
# The informer lists and watches managed pods (label hotupgrade.io/hotdeployment); the
# controller creates them (scale up), patches a slot's image and annotations (a hot
# upgrade) and deletes them (scale down, template change).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "create", "patch", "delete"]
# Events on HotDeployments and pods (BatchCompleted, RolledBack, HandoverFailed, ...).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{/* Fails the render on values that cannot work, with the fix. */}}
{{- define "hotupgrade.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail (printf "leaderElection.enabled: %d replicas without leader election would all reconcile and fight over the same pods; set leaderElection.enabled=true or replicaCount=1" (int .Values.replicaCount)) -}}
{{- end -}}
{{- $minAvailable := .Values.podDisruptionBudget.minAvailable -}}
{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) (not (kindIs "string" $minAvailable)) (ge (int $minAvailable) (int .Values.replicaCount)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable: %d of %d replicas would block every node drain; use a number below replicaCount" (int $minAvailable) (int .Values.replicaCount)) -}}
{{- end -}}
{{- end -}}
