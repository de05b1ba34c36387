package hook

import (
	"strings"
	"testing"
)

func TestOrderedBy(t *testing.T) {
	mk := func(name string, startup *int, lifecycle map[BindingType]int) *Hook {
		return &Hook{Name: name, Config: Config{Version: ConfigV1, OnStartup: startup, Lifecycle: lifecycle}}
	}
	n := func(i int) *int { return &i }
	hooks := []*Hook{
		mk("d.sh", n(10), nil),
		mk("c.sh", n(1), map[BindingType]int{BindingBeforeHelm: 5}),
		mk("b.sh", nil, map[BindingType]int{BindingBeforeHelm: 5}),
		mk("a.sh", n(10), map[BindingType]int{BindingAfterHelm: 1}),
	}
	names := func(hs []*Hook) string {
		var s []string
		for _, h := range hs {
			s = append(s, h.Name)
		}
		return strings.Join(s, ",")
	}
	if got := names(OrderedBy(hooks, BindingOnStartup)); got != "c.sh,a.sh,d.sh" {
		t.Errorf("onStartup order = %s", got)
	}
	if got := names(OrderedBy(hooks, BindingBeforeHelm)); got != "b.sh,c.sh" {
		t.Errorf("beforeHelm order = %s", got)
	}
	if got := names(OrderedBy(hooks, BindingAfterDeleteHelm)); got != "" {
		t.Errorf("afterDeleteHelm order = %s", got)
	}
}
