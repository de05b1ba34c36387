{{- define "hello-world.labels" -}}
heritage: deckhouse
module: {{ $.Chart.Name }}
app: {{ $.Chart.Name }}
{{- end -}}
