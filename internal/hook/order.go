package hook

import "sort"

// Order returns the order of an onStartup or lifecycle binding of the hook
// and whether the hook has that binding.
func (c *Config) Order(bt BindingType) (int, bool) {
	if bt == BindingOnStartup {
		if c.OnStartup == nil {
			return 0, false
		}
		return *c.OnStartup, true
	}
	n, ok := c.Lifecycle[bt]
	return n, ok
}

// OrderedBy returns the hooks that have binding bt (onStartup or a
// lifecycle binding), sorted by (order, name). shell-operator uses an
// unstable sort here; a stable one keeps equal orders alphabetical, which
// is what its name-sorted input intends.
func OrderedBy(hooks []*Hook, bt BindingType) []*Hook {
	out := make([]*Hook, 0, len(hooks))
	for _, h := range hooks {
		if _, ok := h.Config.Order(bt); ok {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, _ := out[i].Config.Order(bt)
		oj, _ := out[j].Config.Order(bt)
		if oi != oj {
			return oi < oj
		}
		return out[i].Name < out[j].Name
	})
	return out
}
