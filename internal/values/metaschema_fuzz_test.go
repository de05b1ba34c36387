package values

import (
	"testing"

	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// FuzzMetaSchemaFastPath: checkMetaSchema trusts santhosh-tekuri/jsonschema
// when it finds a schema document valid and asks go-openapi only otherwise,
// so whatever the first accepts, the second must accept too; a document the
// fast path lets through that go-openapi would refuse is a schema deckhand
// used to reject.
func FuzzMetaSchemaFastPath(f *testing.F) {
	for _, s := range []string{
		"type: object\nproperties:\n  a: {type: string}\n",
		"type: integr\n",
		"type: object\nrequired: []\n",
		"properties:\n  a: {type: [string, 'null']}\n",
		"minimum: 1\nexclusiveMinimum: true\n",
		"enum: [a, a]\n",
		"items: [{type: string}, {}]\n",
		"additionalProperties: {type: number}\npattern: '['\n",
		"format: date-time\ndefault: x\n",
	} {
		f.Add([]byte(s))
	}
	fast, err := jsonschema.NewCompiler().Compile(draft04MetaSchema)
	if err != nil {
		f.Fatal(err)
	}
	slow := validate.NewSchemaValidator(spec.MustLoadJSONSchemaDraft04(), nil, "", strfmt.Default)
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if yaml.Unmarshal(data, &doc) != nil || doc == nil {
			return
		}
		if fast.Validate(doc) != nil {
			return
		}
		if res := slow.Validate(doc); !res.IsValid() {
			t.Fatalf("fast path accepts what go-openapi refuses: %s\n%v", data, res.Errors)
		}
	})
}
