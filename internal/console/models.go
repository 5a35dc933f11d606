package console

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// providerType is a choice of the connect form: a type and the base URL
// the gateway uses when none is given.
type providerType struct {
	Name, DefaultURL string
}

// providerTypes lists the types the configuration knows, each with its
// default base URL as the configuration's own defaults fill it in.
func providerTypes() []providerType {
	names := config.ProviderTypes()
	c := config.Config{}
	for _, n := range names {
		c.Providers = append(c.Providers, config.Provider{Type: n})
	}
	c.ApplyDefaults()
	out := make([]providerType, len(names))
	for i, p := range c.Providers {
		out[i] = providerType{Name: p.Type, DefaultURL: p.BaseURL}
	}
	return out
}

// providerRow is a provider on the providers page. Keys holds only the
// names of the environment variables its keys are read from, never a
// value: the console never resolves a reference.
type providerRow struct {
	config.Provider
	KeyVars []string
	// HeaderNames are the names of its extra headers; their values are
	// not shown.
	HeaderNames []string
	// UsedBy are the models with a target on this provider; a provider
	// still in use cannot be deleted.
	UsedBy []string
}

// providerForm is what the connect form was filled with.
type providerForm struct {
	Name, Type, BaseURL, KeyVar, Headers string
}

// providersData is the providers page.
type providersData struct {
	Revision  int64
	Providers []providerRow
	Types     []providerType
	Form      providerForm
	Errors    []string
}

// envName is the NAME of an env:NAME reference.
func envName(ref string) string { return strings.TrimPrefix(ref, "env:") }

// currentConfig reads the configuration in service for a page, answering
// the error page itself when it cannot.
func (s *Server) currentConfig(w http.ResponseWriter, r *http.Request, m *me) (*current, bool) {
	var cur current
	res, ok, err := s.getJSON(w, r, "/admin/v1/config", nil, &cur)
	if err != nil {
		s.internal(w, r, m, err)
		return nil, false
	}
	if !ok {
		s.fail(w, r, m, res)
		return nil, false
	}
	if cur.Config == nil {
		cur.Config = &config.Config{}
	}
	return &cur, true
}

// providers lists the providers with the connect form.
func (s *Server) providers(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showProviders(w, r, m, http.StatusOK, providerForm{Type: config.ProviderOpenAI}, nil)
}

func (s *Server) showProviders(w http.ResponseWriter, r *http.Request, m *me, status int, form providerForm, errs []string) {
	cur, ok := s.currentConfig(w, r, m)
	if !ok {
		return
	}
	d := &providersData{Revision: cur.Revision, Types: providerTypes(), Form: form, Errors: errs}
	for _, p := range cur.Config.Providers {
		row := providerRow{Provider: p}
		for _, k := range append([]string{p.APIKey}, p.APIKeys...) {
			if k != "" {
				row.KeyVars = append(row.KeyVars, envName(k))
			}
		}
		// Header values may be env:NAME references too: only the names
		// are shown.
		for h := range p.Headers {
			row.HeaderNames = append(row.HeaderNames, h)
		}
		slices.Sort(row.HeaderNames)
		row.UsedBy = modelsUsing(cur.Config, p.Name)
		d.Providers = append(d.Providers, row)
	}
	s.render(w, status, "providers", view{Title: "Providers", Me: m, Nav: "models", CSRF: m.CSRFToken, Data: d})
}

func modelsUsing(c *config.Config, provider string) []string {
	var out []string
	for _, md := range c.Models {
		for _, t := range md.Targets {
			if t.Provider == provider {
				out = append(out, md.Name)
				break
			}
		}
	}
	return out
}

// parseHeaders reads the form's headers: one "Name: value" a line.
func parseHeaders(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("headers: line %d is not Name: value", i+1)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// createProvider connects a provider: its key is the name of an
// environment variable of the gateway, put in the configuration as an
// env:NAME reference.
func (s *Server) createProvider(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	form := providerForm{Name: strings.TrimSpace(r.PostFormValue("name")), Type: r.PostFormValue("type"),
		BaseURL: strings.TrimSpace(r.PostFormValue("base_url")), KeyVar: strings.TrimSpace(r.PostFormValue("key_env")),
		Headers: r.PostFormValue("headers")}
	p := config.Provider{Name: form.Name, Type: form.Type, BaseURL: form.BaseURL}
	if v := strings.TrimPrefix(form.KeyVar, "env:"); v != "" {
		p.APIKey = "env:" + v
	}
	out, err := s.editConfig(w, r, "connect provider "+form.Name, func(c *config.Config) error {
		h, err := parseHeaders(form.Headers)
		if err != nil {
			return err
		}
		p.Headers = h
		for _, q := range c.Providers {
			if q.Name == p.Name {
				return fmt.Errorf("a provider named %q already exists", p.Name)
			}
		}
		c.Providers = append(c.Providers, p)
		return nil
	})
	s.afterEdit(w, r, m, out, err, "/providers", func(status int, errs []string) {
		s.showProviders(w, r, m, status, form, errs)
	})
}

// afterEdit answers an edit: a redirect when it was applied, the page with
// its form and the reasons when it was refused, an error page otherwise.
func (s *Server) afterEdit(w http.ResponseWriter, r *http.Request, m *me, out editOutcome, err error, done string, show func(int, []string)) {
	switch {
	case err != nil:
		s.internal(w, r, m, err)
	case out.refused():
		show(out.status(), errorLines(out.message()))
	case out.Res.Status == http.StatusOK:
		http.Redirect(w, r, done, http.StatusSeeOther)
	default:
		s.fail(w, r, m, out.Res)
	}
}

// deleteProvider removes a provider no model uses; the configuration's
// validation refuses one still named by a target.
func (s *Server) deleteProvider(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	name := r.PathValue("name")
	out, err := s.editConfig(w, r, "delete provider "+name, func(c *config.Config) error {
		i := slices.IndexFunc(c.Providers, func(p config.Provider) bool { return p.Name == name })
		if i < 0 {
			return fmt.Errorf("there is no provider %q (any more)", name)
		}
		c.Providers = slices.Delete(c.Providers, i, i+1)
		return nil
	})
	s.afterEdit(w, r, m, out, err, "/providers", func(status int, errs []string) {
		s.showProviders(w, r, m, status, providerForm{Type: config.ProviderOpenAI}, errs)
	})
}

// modelRow is a model on the models page.
type modelRow struct {
	config.Model
	Summary string
}

// modelForm is what a model form was filled with. The console edits the
// common case, one or two targets and fallbacks; the rest of a model's
// settings are kept as they are and edited in the configuration.
type modelForm struct {
	// Original is the name of the model being edited, "" for a new one.
	Original                              string
	Name, Strategy, Provider, Upstream    string
	Provider2, Upstream2, Weight, Weight2 string
	Fallbacks                             string
}

// modelsData is the models page, or one model's edit page.
type modelsData struct {
	Revision   int64
	Models     []modelRow
	Providers  []string
	Strategies []string
	ModelNames []string
	Form       modelForm
	Errors     []string
}

// modelSummary tells a model's retry, cache and timeout in a few words.
func modelSummary(md config.Model) string {
	var parts []string
	if md.Retry != nil {
		parts = append(parts, fmt.Sprintf("%d retries", md.Retry.Attempts))
	}
	if md.Cache != nil {
		parts = append(parts, "cache "+md.Cache.TTL.String())
	} else {
		parts = append(parts, "no cache")
	}
	if md.Timeout != 0 {
		parts = append(parts, "timeout "+md.Timeout.String())
	}
	return strings.Join(parts, ", ")
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showModels(w, r, m, http.StatusOK, modelForm{Strategy: config.StrategyWeighted, Weight: "1", Weight2: "1"}, nil)
}

// showModels renders the models page, or the edit page of one model when
// form.Original names it.
func (s *Server) showModels(w http.ResponseWriter, r *http.Request, m *me, status int, form modelForm, errs []string) {
	cur, ok := s.currentConfig(w, r, m)
	if !ok {
		return
	}
	d := &modelsData{Revision: cur.Revision, Form: form, Errors: errs,
		Strategies: []string{config.StrategyWeighted, config.StrategyPriority, config.StrategyLatency}}
	for _, p := range cur.Config.Providers {
		d.Providers = append(d.Providers, p.Name)
	}
	for _, md := range cur.Config.Models {
		d.Models = append(d.Models, modelRow{Model: md, Summary: modelSummary(md)})
		d.ModelNames = append(d.ModelNames, md.Name)
	}
	title := "Models"
	if form.Original != "" {
		title = "Model " + form.Original
	}
	s.render(w, status, "models", view{Title: title, Me: m, Nav: "models", CSRF: m.CSRFToken, Data: d})
}

// model is the edit page of one model.
func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	cur, ok := s.currentConfig(w, r, m)
	if !ok {
		return
	}
	name := r.PathValue("name")
	i := slices.IndexFunc(cur.Config.Models, func(md config.Model) bool { return md.Name == name })
	if i < 0 {
		s.errorPage(w, r, m, http.StatusNotFound, fmt.Sprintf("there is no model %q", name))
		return
	}
	md := cur.Config.Models[i]
	form := modelForm{Original: md.Name, Name: md.Name, Strategy: md.Strategy, Fallbacks: strings.Join(md.Fallbacks, ", "), Weight: "1", Weight2: "1"}
	if len(md.Targets) > 0 {
		form.Provider, form.Upstream, form.Weight = md.Targets[0].Provider, md.Targets[0].Model, strconv.Itoa(md.Targets[0].Weight)
	}
	if len(md.Targets) > 1 {
		form.Provider2, form.Upstream2, form.Weight2 = md.Targets[1].Provider, md.Targets[1].Model, strconv.Itoa(md.Targets[1].Weight)
	}
	s.showModels(w, r, m, http.StatusOK, form, nil)
}

func readModelForm(r *http.Request) modelForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return modelForm{Original: r.PathValue("name"), Name: v("name"), Strategy: v("strategy"), Provider: v("provider"),
		Upstream: v("upstream"), Weight: v("weight"), Provider2: v("provider2"), Upstream2: v("upstream2"),
		Weight2: v("weight2"), Fallbacks: v("fallbacks")}
}

// apply writes the form onto md: name, strategy, the first one or two
// targets and the fallbacks. Targets beyond the second are kept.
func (f modelForm) apply(md *config.Model) error {
	weight := func(field, v string) (int, error) {
		if v == "" {
			return 1, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a whole number", field, v)
		}
		return n, nil
	}
	w1, err := weight("weight", f.Weight)
	if err != nil {
		return err
	}
	w2, err := weight("second target's weight", f.Weight2)
	if err != nil {
		return err
	}
	md.Name, md.Strategy = f.Name, f.Strategy
	var rest []config.Target
	if len(md.Targets) > 2 {
		rest = md.Targets[2:]
	}
	md.Targets = []config.Target{{Provider: f.Provider, Model: f.Upstream, Weight: w1}}
	if f.Provider2 != "" {
		md.Targets = append(md.Targets, config.Target{Provider: f.Provider2, Model: f.Upstream2, Weight: w2})
	}
	md.Targets = append(md.Targets, rest...)
	md.Fallbacks = nil
	for _, fb := range strings.FieldsFunc(f.Fallbacks, func(r rune) bool { return r == ',' || r == ' ' }) {
		md.Fallbacks = append(md.Fallbacks, fb)
	}
	return nil
}

// createModel adds a model from the create form.
func (s *Server) createModel(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	form := readModelForm(r)
	out, err := s.editConfig(w, r, "create model "+form.Name, func(c *config.Config) error {
		if slices.ContainsFunc(c.Models, func(md config.Model) bool { return md.Name == form.Name }) {
			return fmt.Errorf("a model named %q already exists", form.Name)
		}
		var md config.Model
		if err := form.apply(&md); err != nil {
			return err
		}
		c.Models = append(c.Models, md)
		return nil
	})
	s.afterEdit(w, r, m, out, err, "/models", func(status int, errs []string) {
		s.showModels(w, r, m, status, form, errs)
	})
}

// updateModel changes a model from its edit form.
func (s *Server) updateModel(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	form := readModelForm(r)
	out, err := s.editConfig(w, r, "edit model "+form.Original, func(c *config.Config) error {
		i := slices.IndexFunc(c.Models, func(md config.Model) bool { return md.Name == form.Original })
		if i < 0 {
			return fmt.Errorf("there is no model %q (any more)", form.Original)
		}
		if form.Name != form.Original && slices.ContainsFunc(c.Models, func(md config.Model) bool { return md.Name == form.Name }) {
			return fmt.Errorf("a model named %q already exists", form.Name)
		}
		return form.apply(&c.Models[i])
	})
	s.afterEdit(w, r, m, out, err, "/models", func(status int, errs []string) {
		s.showModels(w, r, m, status, form, errs)
	})
}

// deleteModel removes a model; the configuration's validation refuses one
// that is still another's fallback or a prompt's model.
func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	name := r.PathValue("name")
	out, err := s.editConfig(w, r, "delete model "+name, func(c *config.Config) error {
		i := slices.IndexFunc(c.Models, func(md config.Model) bool { return md.Name == name })
		if i < 0 {
			return fmt.Errorf("there is no model %q (any more)", name)
		}
		c.Models = slices.Delete(c.Models, i, i+1)
		return nil
	})
	s.afterEdit(w, r, m, out, err, "/models", func(status int, errs []string) {
		s.showModels(w, r, m, status, modelForm{Strategy: config.StrategyWeighted, Weight: "1", Weight2: "1"}, errs)
	})
}
