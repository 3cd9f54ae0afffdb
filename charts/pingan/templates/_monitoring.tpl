{{/*
Rule groups of the enabled services, as YAML {groups: [...]}.
Sources: rules/common.yaml (all enabled services), rules/<file>.yaml for each
services.<name>.monitoring.ruleFiles entry, rules/audit.yaml if auditLog.enabled and auditLog.alerts.
Each file is rendered with tpl; context: .Values .Release .Chart .Template
.services (enabled names) .edges (enabled edge processes, common.yaml) .service (owning service, per-service files) .sel (label matchers)
.auditCronJobs (service -> {checkpoint, verify}: names of its audit CronJobs).
*/}}
{{- define "pingan.ruleGroups" -}}
{{- $services := include "pingan.enabledServices" . | fromJsonArray -}}
{{- $ns := printf "namespace=%q" .Release.Namespace -}}
{{- $allSel := printf "%s, service=~%q" $ns (join "|" $services) -}}
{{- /* Edges (the gateway) have no store and no figures of their own, only pingan_up: common.yaml's down alert. */ -}}
{{- $edges := list -}}
{{- if .Values.gateway.enabled -}}{{- $edges = append $edges "gateway" -}}{{- end -}}
{{- $sources := list (dict "file" "common" "services" $services "edges" $edges "service" "" "sel" $allSel) -}}
{{- range $name := $services -}}
{{- $svc := include "pingan.svcValues" (dict "root" $ "name" $name) | fromYaml -}}
{{- range $f := $svc.monitoring.ruleFiles -}}
{{- $sources = append $sources (dict "file" $f "services" (list $name) "service" $name "sel" (printf "%s, service=%q" $ns $name)) -}}
{{- end -}}
{{- end -}}
{{- $auditCronJobs := dict -}}
{{- range $name := $services -}}
{{- $_ := set $auditCronJobs $name (dict "checkpoint" (include "pingan.auditCronJobName" (dict "root" $ "name" $name "kind" "checkpoint")) "verify" (include "pingan.auditCronJobName" (dict "root" $ "name" $name "kind" "verify"))) -}}
{{- end -}}
{{- if and .Values.auditLog.enabled .Values.auditLog.alerts (gt (len $services) 0) -}}
{{- $sources = append $sources (dict "file" "audit" "services" $services "service" "" "sel" $allSel) -}}
{{- end -}}
{{- $groups := list -}}
{{- range $src := $sources -}}
{{- $path := printf "rules/%s.yaml" $src.file -}}
{{- $raw := $.Files.Get $path -}}
{{- if not $raw -}}{{- fail (printf "monitoring rule file %s not found in the chart" $path) -}}{{- end -}}
{{- $ctx := dict "Values" $.Values "Release" $.Release "Chart" $.Chart "Template" $.Template "Capabilities" $.Capabilities "services" $src.services "edges" ($src.edges | default list) "service" $src.service "sel" $src.sel "auditCronJobs" $auditCronJobs -}}
{{- $doc := tpl $raw $ctx | fromYaml -}}
{{- if hasKey $doc "Error" -}}{{- fail (printf "%s: %s" $path $doc.Error) -}}{{- end -}}
{{- range $g := $doc.groups -}}
{{- range $r := $g.rules -}}
{{- if and $r.alert $.Values.alerts.additionalLabels -}}
{{- $_ := set $r "labels" (mergeOverwrite (deepCopy $.Values.alerts.additionalLabels) ($r.labels | default dict)) -}}
{{- end -}}
{{- end -}}
{{- $groups = append $groups $g -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "groups" $groups) -}}
{{- end -}}

{{/*
Regulation dashboard (Art. 12, per county): dashboards/regulation.json with the
panels of dashboards/regulation/<file>.json for each services.<name>.monitoring.regulationPanels
entry appended as a row each, laid out one below the other.
*/}}
{{- define "pingan.regulationDashboard" -}}
{{- $services := include "pingan.enabledServices" . | fromJsonArray -}}
{{- $dash := .Files.Get "dashboards/regulation.json" | fromJson -}}
{{- $panels := list -}}
{{- $y := 0 -}}
{{- $id := 1 -}}
{{- range $name := $services -}}
{{- $svc := include "pingan.svcValues" (dict "root" $ "name" $name) | fromYaml -}}
{{- range $f := $svc.monitoring.regulationPanels -}}
{{- $path := printf "dashboards/regulation/%s.json" $f -}}
{{- $raw := $.Files.Get $path -}}
{{- if not $raw -}}{{- fail (printf "dashboard panel file %s not found in the chart" $path) -}}{{- end -}}
{{- $part := $raw | fromJson -}}
{{- if hasKey $part "Error" -}}{{- fail (printf "%s: %s" $path $part.Error) -}}{{- end -}}
{{- $panels = append $panels (dict "type" "row" "title" $part.title "id" $id "collapsed" false "gridPos" (dict "h" 1 "w" 24 "x" 0 "y" $y) "panels" list) -}}
{{- $id = add1 $id -}}
{{- $y = add1 $y -}}
{{- $bottom := $y -}}
{{- range $p := $part.panels -}}
{{- $gp := $p.gridPos -}}
{{- $py := add $y (int $gp.y) -}}
{{- $_ := set $p "gridPos" (dict "h" (int $gp.h) "w" (int $gp.w) "x" (int $gp.x) "y" $py) -}}
{{- $_ := set $p "id" $id -}}
{{- $id = add1 $id -}}
{{- if gt (add $py (int $gp.h)) $bottom -}}{{- $bottom = add $py (int $gp.h) -}}{{- end -}}
{{- $panels = append $panels $p -}}
{{- end -}}
{{- $y = $bottom -}}
{{- end -}}
{{- end -}}
{{- $_ := set $dash "panels" $panels -}}
{{- toJson $dash -}}
{{- end -}}
