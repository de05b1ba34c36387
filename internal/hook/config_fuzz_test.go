package hook

import "testing"

// FuzzParseConfig: any bytes a hook prints for --config give a config or
// an error naming the hook, never a panic; a config that parses has the
// shape its version promises.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"configVersion: v1\nonStartup: 1\n",
		`{"configVersion":"v1","kubernetes":[{"name":"pods","kind":"Pod","jqFilter":".metadata.name"}]}`,
		"configVersion: v1\nschedule: [{crontab: '*/5 * * * * *', name: every5}]\n",
		"configVersion: v1\nkubernetesValidating: [{name: a.b.c, rules: [{operations: [CREATE], apiGroups: [''], apiVersions: [v1], resources: [pods]}]}]\n",
		"configVersion: v1\nkubernetesCustomResourceConversion: [{name: c, crdName: a.b.c, conversions: [{fromVersion: v1, toVersion: v2}]}]\n",
		`{"onKubernetesEvent":[{"kind":"Pod","event":["add"]}],"schedule":[{"crontab":"* * * * *"}]}`,
		"configVersion: v1\nbeforeHelm: 10\n",
	} {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 1)
	}
	f.Fuzz(func(t *testing.T, data []byte, kind int) {
		k := KindShell
		if kind%2 == 1 {
			k = KindModule
		}
		cfg, err := ParseConfig("hooks/x.sh", data, k)
		if err != nil {
			return
		}
		if cfg.Version != ConfigV0 && cfg.Version != ConfigV1 {
			t.Fatalf("parsed with version %q", cfg.Version)
		}
		for _, b := range cfg.Validating {
			if b.Name == "" || len(b.Rules) == 0 {
				t.Fatalf("admission binding accepted without name or rules: %+v", b)
			}
		}
	})
}
