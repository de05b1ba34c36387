package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValidStream(t *testing.T) {
	data := `{"name":"hook_a_total","action":"add","value":2,"labels":{"kind":"x"}}
{"name":"temperature","set":21.5}
{"name":"requests","add":3}

{"name":"latency","action":"observe","value":0.3,"buckets":[0.1,0.5,1]}
{"group":"g1","action":"expire"}
{
  "name": "pretty",
  "action": "set",
  "value": 1,
  "group": "g1"
}
`
	ops, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 6 {
		t.Fatalf("ops = %d, want 6", len(ops))
	}
	check := func(i int, name, action string, value float64, line int) {
		t.Helper()
		op := ops[i]
		if op.Name != name || op.Action != action || op.Line != line {
			t.Fatalf("op %d = %+v, want %s %s line %d", i, op, name, action, line)
		}
		if op.Action != ActionExpire && *op.Value != value {
			t.Fatalf("op %d value = %v, want %v", i, *op.Value, value)
		}
	}
	check(0, "hook_a_total", "add", 2, 1)
	check(1, "temperature", "set", 21.5, 2)
	check(2, "requests", "add", 3, 3)
	check(3, "latency", "observe", 0.3, 5)
	check(4, "", "expire", 0, 6)
	check(5, "pretty", "set", 1, 7)
	if ops[4].Group != "g1" || ops[0].Labels["kind"] != "x" || len(ops[3].Buckets) != 3 {
		t.Fatalf("fields lost: %+v", ops)
	}
}

func TestParseEmptyAndMissing(t *testing.T) {
	ops, err := Parse([]byte("  \n\n"))
	if err != nil || len(ops) != 0 {
		t.Fatalf("empty: %v %v", ops, err)
	}
	ops, err = ParseFile(filepath.Join(t.TempDir(), "absent"))
	if err != nil || len(ops) != 0 {
		t.Fatalf("missing file: %v %v", ops, err)
	}
}

func TestParseBadLines(t *testing.T) {
	good := `{"name":"ok","set":1}` + "\n"
	cases := []struct {
		name, line, want string
	}{
		{"no action", `{"name":"m","value":1}`, `line 2: field "action": one of "action", "set" or "add" is required`},
		{"unknown action", `{"name":"m","action":"inc","value":1}`, `line 2: field "action": unsupported action "inc"`},
		{"no name", `{"action":"set","value":1}`, `line 2: field "name": required for action "set"`},
		{"bad name", `{"name":"my-metric","set":1}`, `line 2: field "name": "my-metric" is not a valid Prometheus metric name`},
		{"no value", `{"name":"m","action":"add"}`, `line 2: field "value": required for action "add" (metric "m")`},
		{"negative add", `{"name":"m","action":"add","value":-1}`, `line 2: field "value": counter "m" cannot add a negative value -1`},
		{"observe without buckets", `{"name":"m","action":"observe","value":1}`, `line 2: field "buckets": required for action "observe"`},
		{"unsorted buckets", `{"name":"m","action":"observe","value":1,"buckets":[1,0.5]}`, `line 2: field "buckets": must be strictly increasing`},
		{"expire without group", `{"action":"expire"}`, `line 2: field "group": required for action "expire"`},
		{"set and add", `{"name":"m","set":1,"add":2}`, `line 2: fields "set" and "add" are mutually exclusive`},
		{"string value", `{"name":"m","action":"set","value":"5"}`, `line 2: field "value": string is not a valid float64`},
		{"label not string", `{"name":"m","set":1,"labels":{"a":1}}`, `line 2: field "labels": number is not a valid string`},
		{"bad label name", `{"name":"m","set":1,"labels":{"a-b":"x"}}`, `line 2: field "labels": "a-b" is not a valid label name`},
		{"syntax", `{"name":"m",,}`, `line 2: invalid JSON`},
		{"unterminated", `{"name":"m","set":1`, `line 2: invalid JSON (object starting here, error found on line 3)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops, err := Parse([]byte(good + c.line + "\n" + good))
			if err == nil {
				t.Fatalf("accepted; ops = %+v", ops)
			}
			if ops != nil {
				t.Fatalf("returned ops with error: %+v", ops)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseTruncatedAtEOF(t *testing.T) {
	_, err := Parse([]byte("{\"name\":\"ok\",\"set\":1}\n{\"name\":\"m\",\n\"set\":1"))
	if err == nil || !strings.Contains(err.Error(), "line 2: truncated JSON object") {
		t.Fatalf("error = %v", err)
	}
}

func TestParseFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.json")
	if err := os.WriteFile(path, []byte(`{"name":"m","action":"oops","value":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path)
	if err == nil || !strings.Contains(err.Error(), "metrics file "+path+": line 1: field \"action\"") {
		t.Fatalf("error = %v", err)
	}
}
