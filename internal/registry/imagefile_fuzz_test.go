package registry

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzVersionJSON: a release or bundle image's version.json either gives a
// version that is a valid tag of its own, or is refused with an error naming
// the file.
func FuzzVersionJSON(f *testing.F) {
	for _, s := range []string{`{"version":"v1.2.3"}`, `{"version":"1.2.3"}`, `{"version":""}`, `{}`, `null`, `{"version":1}`, `{"version":"v1.2.3+build"}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseVersionJSON(data)
		if err != nil {
			if !strings.Contains(err.Error(), "version") {
				t.Fatalf("error does not name version.json or the version: %v", err)
			}
			return
		}
		if again, err := ParseVersion(v); err != nil || again != v {
			t.Fatalf("version %q from %q is not a tag of its own: %q, %v", v, data, again, err)
		}
	})
}

// FuzzImagesDigests: every digest images_digests.json yields is a well-formed
// digest, so no bundle can steer a registry request with it.
func FuzzImagesDigests(f *testing.F) {
	for _, s := range []string{
		`{"controller":"sha256:` + strings.Repeat("a", 64) + `"}`,
		`{"x":"sha256:../../v2/_catalog"}`, `{"":"sha256:` + strings.Repeat("0", 64) + `"}`, `null`, `{}`, `{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		digests, err := parseImagesDigests(data)
		if err != nil {
			return
		}
		if digests == nil {
			t.Fatal("nil map without an error")
		}
		for k, d := range digests {
			if _, err := v1.NewHash(d); err != nil || k == "" {
				t.Fatalf("accepted %q = %q: %v", k, d, err)
			}
		}
	})
}
