package hook

// CanStartCombine reports whether a queued run of a hook with config version
// version, whose first binding context is head, may absorb the runs of the
// same hook queued right after it. As in shell-operator, only v1 hooks
// combine, and a kubernetes Synchronization without a group never starts a
// combined run (it must run alone so its watch's events are unlocked in
// order).
func CanStartCombine(version string, head BindingContext) bool {
	if version != ConfigV1 {
		return false
	}
	return !head.IsSynchronization() || head.Group != ""
}

// Combine appends the binding contexts of consecutive runs of one hook, in
// queue order, and compacts the result (see Compact). Combining pairwise,
// Combine(Combine(a, b), c), gives the same list as Combine(a, b, c).
func Combine(runs ...[]BindingContext) []BindingContext {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	all := make([]BindingContext, 0, n)
	for _, r := range runs {
		all = append(all, r...)
	}
	return Compact(all)
}

// Compact drops every context whose successor has the same non-empty group:
// a burst of events of one group becomes one "Group" context, which carries
// fresh snapshots anyway. The input is not modified.
func Compact(contexts []BindingContext) []BindingContext {
	out := make([]BindingContext, 0, len(contexts))
	for i, bc := range contexts {
		if bc.Group != "" && i+1 < len(contexts) && contexts[i+1].Group == bc.Group {
			continue
		}
		out = append(out, bc)
	}
	return out
}

// SnapshotReader returns the current objects of one kubernetes binding of a
// hook (sorted by namespace and name), or nil when it has none.
type SnapshotReader func(binding string) []ObjectAndFilterResult

// RefreshSnapshots returns a copy of contexts with fresh data read right
// before a run: "snapshots" get every name in IncludeSnapshots (an empty list
// when the binding has nothing), and Synchronization contexts get the
// current objects of their own binding. Each binding is read once, so all
// contexts of one combined run see the same objects.
func RefreshSnapshots(contexts []BindingContext, read SnapshotReader) []BindingContext {
	cache := map[string][]ObjectAndFilterResult{}
	get := func(name string) []ObjectAndFilterResult {
		if objs, ok := cache[name]; ok {
			return objs
		}
		objs := read(name)
		if objs == nil {
			objs = []ObjectAndFilterResult{}
		}
		cache[name] = objs
		return objs
	}
	out := make([]BindingContext, len(contexts))
	for i, bc := range contexts {
		if len(bc.IncludeSnapshots) > 0 {
			snaps := make(map[string][]ObjectAndFilterResult, len(bc.IncludeSnapshots))
			for _, name := range bc.IncludeSnapshots {
				snaps[name] = get(name)
			}
			bc.Snapshots = snaps
		}
		if bc.IsSynchronization() {
			bc.Objects = get(bc.Binding)
		}
		out[i] = bc
	}
	return out
}
