{{- define "pod-reporter.labels" -}}
heritage: deckhouse
module: {{ $.Chart.Name }}
app: {{ $.Chart.Name }}
{{- end -}}
