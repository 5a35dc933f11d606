package openai

import (
	"testing"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/provider"
)

// TestPresetsMatchConfig keeps the two lists of preset URLs in step: the
// configuration fills base_url from its own, the adapter from this one.
func TestPresetsMatchConfig(t *testing.T) {
	for name, base := range Presets {
		t.Run(name, func(t *testing.T) {
			a, ok := provider.Lookup(name)
			if !ok {
				t.Fatalf("preset %q is not registered", name)
			}
			if a.DefaultBaseURL() != base {
				t.Errorf("adapter default URL %q, want %q", a.DefaultBaseURL(), base)
			}
			cfg, err := config.Parse([]byte("providers:\n  - { name: p, type: " + name + " }\n"))
			if err != nil {
				t.Fatalf("config rejects the preset: %v", err)
			}
			if cfg.Providers[0].BaseURL != base {
				t.Errorf("config default base_url %q, want %q", cfg.Providers[0].BaseURL, base)
			}
			if f := (&provider.Upstream{Adapter: a}).Format(); f != Type {
				t.Errorf("format %q, want %q: presets pass OpenAI bodies through", f, Type)
			}
		})
	}
}
