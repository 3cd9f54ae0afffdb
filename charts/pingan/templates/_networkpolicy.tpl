{{/* Egress rules shared by service and job pods: broker, database, DNS. */}}
{{- define "pingan.egressRules" -}}
- to:
    {{- toYaml .Values.networkPolicy.broker.peers | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .Values.networkPolicy.broker.port }}
- to:
    {{- toYaml .Values.networkPolicy.database.peers | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .Values.networkPolicy.database.port }}
{{- if .Values.networkPolicy.dns.enabled }}
- ports:
    - protocol: UDP
      port: {{ .Values.networkPolicy.dns.port }}
    - protocol: TCP
      port: {{ .Values.networkPolicy.dns.port }}
{{- end }}
{{- end -}}
