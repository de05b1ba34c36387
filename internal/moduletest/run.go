package moduletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/deckhand-dev/deckhand/internal/buildinfo"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Test runs a module's hook test cases (`deckhand module test`).
type Test struct {
	// Update rewrites each case's expect section with what the run produced.
	Update bool
	// Match selects the cases whose name (path under tests/ without the
	// extension) matches; nil runs all.
	Match *regexp.Regexp
	// KubeVersion is the Kubernetes version of the stub global values and
	// of manifest rendering; "" means the version of deckhand's client-go.
	KubeVersion string
	// TmpDir holds the hook runs' protocol files; "" means os.TempDir().
	TmpDir string
	// Timeout bounds one case (watches, hook run, rendering); 0 means
	// DefaultTimeout. A hook still running then is killed.
	Timeout time.Duration
}

// DefaultTimeout is the time one case may take when Test.Timeout is 0.
const DefaultTimeout = 2 * time.Minute

// Report is the outcome of a test run.
type Report struct {
	Module string       `json:"module"`
	Dir    string       `json:"dir"`
	Cases  []CaseResult `json:"cases"`
	Passed int          `json:"passed"`
	Failed int          `json:"failed"`
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	// File is the case file relative to the module ("tests/pods/added.yaml").
	File string `json:"file"`
	// Name is the case name --run matches.
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Updated is true when --update rewrote the file.
	Updated  bool          `json:"updated,omitempty"`
	Duration time.Duration `json:"durationNanoseconds"`
	// Error is why the case could not run (bad case file, unknown hook or
	// binding); the hook's own failure is compared through expect.error.
	Error string `json:"error,omitempty"`
	// Diff is expected vs actual, as YAML, for a failed comparison.
	Diff string `json:"diff,omitempty"`
	// Output holds the hook's stdout and stderr lines of a failed case.
	Output []string `json:"output,omitempty"`
}

// Run loads the module in dir and runs its cases in file order.
func (t *Test) Run(ctx context.Context, dir string) (*Report, error) {
	m, err := module.Load(dir)
	if err != nil {
		return nil, err
	}
	convCases, err := loadConversionCases(m.Dir)
	if err != nil {
		return nil, err
	}
	files, err := FindCases(m.Dir)
	if err != nil && !(len(convCases) > 0 && !dirExists(filepath.Join(m.Dir, TestsDir))) {
		return nil, err
	}
	kubeVersion := t.KubeVersion
	if kubeVersion == "" {
		kubeVersion = buildinfo.Get().KubernetesVersion
	}
	r := &runner{t: t, m: m, kubeVersion: kubeVersion, hooks: map[string]*hook.Hook{}}
	rep := &Report{Module: m.Name, Dir: m.Dir, Cases: []CaseResult{}}
	for _, f := range files {
		name := caseName(f)
		if t.Match != nil && !t.Match.MatchString(name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := r.runCase(ctx, f)
		if res.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Cases = append(rep.Cases, res)
	}
	if len(convCases) > 0 {
		// The conversions the runtime applies to ModuleConfig settings; a
		// broken chain is every case's error.
		conv, convErr := values.LoadConversions(m.Dir)
		for i, c := range convCases {
			if t.Match != nil && !t.Match.MatchString(conversionCaseName(c, i)) {
				continue
			}
			res := CaseResult{File: ConversionCasesFile, Name: conversionCaseName(c, i)}
			if convErr != nil {
				res.Error = convErr.Error()
			} else {
				res = runConversionCase(conv, c, i)
			}
			if res.Passed {
				rep.Passed++
			} else {
				rep.Failed++
			}
			rep.Cases = append(rep.Cases, res)
		}
	}
	return rep, nil
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

type runner struct {
	t           *Test
	m           *module.Module
	kubeVersion string
	hooks       map[string]*hook.Hook
}

func (r *runner) runCase(ctx context.Context, file string) (res CaseResult) {
	start := time.Now()
	res = CaseResult{File: file, Name: caseName(file)}
	defer func() { res.Duration = time.Since(start) }()
	timeout := r.t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := LoadCase(r.m.Dir, file)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	actual, output, err := r.execute(ctx, c)
	if err != nil {
		res.Error = fmt.Sprintf("%s: %v", file, err)
		res.Output = output
		return res
	}
	if r.t.Update {
		if err := writeExpect(filepath.Join(r.m.Dir, file), c, actual); err != nil {
			res.Error = err.Error()
			return res
		}
		res.Updated, res.Passed = true, true
		return res
	}
	if diff := compare(&c.Expect, actual); diff != "" {
		res.Diff = diff
		res.Output = output
		return res
	}
	res.Passed = true
	return res
}

// execute runs the case's hook and returns what it produced, in the shape
// of an expect section. An error means the case could not run at all.
func (r *runner) execute(ctx context.Context, c *Case) (*Expect, []string, error) {
	h, err := r.loadHook(ctx, c.Hook)
	if err != nil {
		return nil, nil, err
	}
	vals, err := buildValues(r.m, c, c.ConfigValues, r.kubeVersion)
	if err != nil {
		return nil, nil, err
	}
	contexts, err := buildContexts(ctx, h, c)
	if err != nil {
		return nil, nil, err
	}
	bcJSON, err := hook.MarshalContexts(h.Config.Version, contexts)
	if err != nil {
		return nil, nil, err
	}
	inputs, err := vals.inputs()
	if err != nil {
		return nil, nil, err
	}
	env := make([]string, 0, len(c.Env))
	for k, v := range c.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	out := &outputLog{}
	hres, runErr := hook.Run(ctx, h, contexts, hook.RunOptions{
		TmpDir:  r.t.TmpDir,
		Env:     env,
		Inputs:  inputs,
		Outputs: []string{values.EnvValuesJSONPatchPath, values.EnvConfigValuesJSONPatchPath},
		Logger:  out.logger(),
	})
	if ctx.Err() != nil {
		return nil, out.lines(), fmt.Errorf("hook %s: %w", h.Name, ctx.Err())
	}
	actual := &Expect{has: map[string]bool{}}
	if err := decodeJSON(bcJSON, &actual.BindingContext); err != nil {
		return nil, nil, err
	}
	if runErr != nil {
		actual.Error = runErr.Error()
		return actual, out.lines(), nil
	}
	if err := r.outputs(ctx, c, h, vals, hres, actual); err != nil {
		actual.Error = err.Error()
	}
	return actual, out.lines(), nil
}

// outputs parses and checks the hook's output files as the runtime does; an
// error is what would fail the hook run.
func (r *runner) outputs(ctx context.Context, c *Case, h *hook.Hook, vals *caseValues, res *hook.Result, actual *Expect) error {
	ops, err := operations(res.KubernetesPatch)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvKubernetesPatchPath, err)
	}
	actual.Operations = ops
	mops, err := metricOps(res.Metrics)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvMetricsPath, err)
	}
	actual.Metrics = mops
	cfgOps, err := values.ParsePatch(values.EnvConfigValuesJSONPatchPath, res.Outputs[values.EnvConfigValuesJSONPatchPath], vals.key, values.ScopeModule)
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Name, err)
	}
	valOps, err := values.ParsePatch(values.EnvValuesJSONPatchPath, res.Outputs[values.EnvValuesJSONPatchPath], vals.key, values.ScopeModule)
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Name, err)
	}
	actual.ConfigValuesPatch = toAnyList(cfgOps)
	actual.ValuesPatch = toAnyList(valOps)

	// Settings changed by a config patch recompute the values, as the
	// runtime does after persisting them; memory patches apply on top.
	after := vals
	if len(cfgOps) > 0 {
		cfg, err := cfgOps.Apply(vals.key, vals.config)
		if err != nil {
			return fmt.Errorf("hook %s: applying %s: %w", h.Name, values.EnvConfigValuesJSONPatchPath, err)
		}
		if after, err = buildValues(r.m, c, cfg, r.kubeVersion); err != nil {
			return fmt.Errorf("hook %s: settings after %s: %w", h.Name, values.EnvConfigValuesJSONPatchPath, err)
		}
	}
	mod, err := valOps.Apply(vals.key, after.module)
	if err != nil {
		return fmt.Errorf("hook %s: applying %s: %w", h.Name, values.EnvValuesJSONPatchPath, err)
	}
	if err := validateValues(r.m, vals.key, mod); err != nil {
		return fmt.Errorf("hook %s: values after %s: %w", h.Name, values.EnvValuesJSONPatchPath, err)
	}
	actual.Values = mod
	if c.Expect.has["manifests"] {
		manifests, err := render(ctx, r.m, r.kubeVersion, after.global, vals.key, mod)
		if err != nil {
			return err
		}
		actual.Manifests = manifests
	}
	return nil
}

func (r *runner) loadHook(ctx context.Context, rel string) (*hook.Hook, error) {
	if h, ok := r.hooks[rel]; ok {
		return h, nil
	}
	hooksDir := filepath.Join(r.m.Dir, "hooks")
	path := filepath.Join(hooksDir, filepath.FromSlash(rel))
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("hook: hooks/%s does not exist", rel)
		}
		return nil, fmt.Errorf("hook: %w", err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("hook: hooks/%s is not an executable file", rel)
	}
	h, err := hook.LoadHook(ctx, hooksDir, path, filepath.ToSlash(rel), "hooks/"+filepath.ToSlash(rel),
		hook.DiscoverOptions{Kind: hook.KindModule, ConfigTimeout: module.HookConfigTimeout})
	if err != nil {
		return nil, err
	}
	r.hooks[rel] = h
	return h, nil
}

func toAnyList(ops values.Patch) []any {
	if len(ops) == 0 {
		return nil
	}
	out := make([]any, len(ops))
	for i, op := range ops {
		m := map[string]any{"op": op.Op, "path": op.Path}
		if op.Op == "add" {
			m["value"] = op.Value
		}
		out[i] = m
	}
	return out
}

func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding binding context: %w", err)
	}
	return nil
}
