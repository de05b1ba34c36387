package module

import "testing"

// FuzzParseDefinition: any module.yaml gives a definition or errors that
// name module.yaml, never a panic.
func FuzzParseDefinition(f *testing.F) {
	for _, s := range []string{
		"name: hello\nweight: 100\nstage: General Availability\n",
		"name: hello\nrequirements:\n  kubernetes: '>= 1.27'\n  modules: {cert-manager: '>= 1.0'}\n",
		"name: hello\ndisable: {confirmation: true, message: careful}\naccessibility:\n  editions:\n    _default: {available: true, enabledInBundles: [Default]}\n",
		"name: hello\nupdate: {versions: [{from: '1.0', to: '1.3'}]}\n",
		"weight: -1\n",
		"- not a map\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, _, err := ParseDefinition("module.yaml", data)
		if err == nil && def == nil {
			t.Fatal("no definition and no error")
		}
	})
}
