package app

import (
	"reflect"
	"testing"

	"github.com/hypergate/hypergate/internal/config"
)

func TestStatusServices(t *testing.T) {
	svcs := []config.Service{{Name: "a", Description: "A"}, {Name: "b", State: config.StateDeprecated}, {Name: "c", State: config.StateRetired}}
	names := func(cfg *config.Config) []string {
		var out []string
		for _, s := range statusServices(cfg) {
			out = append(out, s.Name)
		}
		return out
	}
	tests := []struct {
		name string
		cfg  *config.Config
		want []string
	}{
		{"no configuration", nil, nil},
		{"every service not retired", &config.Config{Services: svcs}, []string{"a", "b"}},
		{"those the section names, in its order", &config.Config{Services: svcs, Status: &config.StatusPage{Services: []string{"b", "a"}}}, []string{"b", "a"}},
		{"a section without services", &config.Config{Services: svcs, Status: &config.StatusPage{Title: "x"}}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.cfg); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
