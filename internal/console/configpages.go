package console

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/admin"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/store"
)

// current is GET /admin/v1/config: the configuration in service and the
// number of its revision.
type current struct {
	Revision int64          `json:"revision"`
	Config   *config.Config `json:"config"`
}

// formRevision is the revision a form was rendered from, posted back in
// its hidden "revision" field.
func formRevision(r *http.Request) int64 {
	n, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	return n
}

// staleMessage says why an edit on top of an older revision was refused.
func staleMessage(was, now int64) string {
	return fmt.Sprintf("the configuration changed while you were editing (this page showed revision %d, the gateway is now at revision %d): nothing was applied; reload the page, check the change and try again", was, now)
}

// editOutcome is what an edit of the configuration came to. Res is the
// admin API's answer to the PUT, nil when the edit never got that far;
// Msg is the reason a refused edit is shown with its form.
type editOutcome struct {
	Res *apiResult
	Msg string
}

// refused reports whether the edit was refused in a way the form shows:
// stale revision, a check of change, or the API's validation (400, 409,
// 422).
func (o editOutcome) refused() bool {
	return o.Msg != "" || (o.Res != nil && (o.Res.Status == http.StatusBadRequest || o.Res.Status == http.StatusConflict ||
		o.Res.Status == http.StatusUnprocessableEntity))
}

// status is the page's status for a refused edit.
func (o editOutcome) status() int {
	switch {
	case o.Res != nil:
		return o.Res.Status
	case o.Msg != "":
		return http.StatusConflict
	}
	return http.StatusOK
}

func (o editOutcome) message() string {
	if o.Msg != "" {
		return o.Msg
	}
	return o.Res.message()
}

// editConfig changes the configuration the only way the admin API offers:
// read it whole, change it, put it back with a "console: …" message. The
// admin API takes any configuration put to it, so the lost update of two
// people editing at once is guarded here: the form says which revision it
// was rendered from, and an edit on top of an older one is refused before
// anything is put. change returns an error whose text is shown with the
// form when the edit cannot be made (say, a name already taken).
func (s *Server) editConfig(w http.ResponseWriter, r *http.Request, message string, change func(*config.Config) error) (editOutcome, error) {
	var cur current
	res, ok, err := s.getJSON(w, r, "/admin/v1/config", nil, &cur)
	if err != nil {
		return editOutcome{}, err
	}
	if !ok {
		return editOutcome{Res: res}, nil
	}
	if was := formRevision(r); was != cur.Revision {
		return editOutcome{Msg: staleMessage(was, cur.Revision)}, nil
	}
	if cur.Config == nil {
		cur.Config = &config.Config{}
	}
	if err := change(cur.Config); err != nil {
		return editOutcome{Msg: err.Error()}, nil
	}
	q := url.Values{"message": {"console: " + message}}
	res, err = s.api(w, r, http.MethodPut, "/admin/v1/config", q, cur.Config, r.PostFormValue("csrf_token"))
	if err != nil {
		return editOutcome{}, err
	}
	return editOutcome{Res: res}, nil
}

// errorLines splits an admin API message listing several problems, one a
// line, for a list next to the form.
func errorLines(msg string) []string {
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// configData is the configuration page.
type configData struct {
	Revision int64
	YAML     string
	// Revisions are the latest, newest first; nil when the role may not
	// read them.
	Revisions []store.Revision
	// Apply is the apply form: the YAML pasted, and the preview of what it
	// would change once previewed.
	Apply struct {
		YAML, Message string
		Revision      int64
		Previewed     bool
		// Digest identifies the text previewed: Apply puts only that.
		Digest string
		Diff   []string
		Errors []string
	}
	Notice string
}

// configPage shows the configuration in service as YAML, its revisions and
// the apply form.
func (s *Server) configPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	d := &configData{}
	if n, err := strconv.ParseInt(r.URL.Query().Get("restored"), 10, 64); err == nil {
		d.Notice = fmt.Sprintf("Revision %d was restored: the configuration in service is now the same as it.", n)
	}
	if r.URL.Query().Get("applied") != "" {
		d.Notice = "The configuration was applied."
	}
	s.showConfig(w, r, m, http.StatusOK, d)
}

func (s *Server) showConfig(w http.ResponseWriter, r *http.Request, m *me, status int, d *configData) {
	res, err := s.api(w, r, http.MethodGet, "/admin/v1/config", url.Values{"format": {"yaml"}}, nil, "")
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status != http.StatusOK {
		s.fail(w, r, m, res)
		return
	}
	d.YAML = string(res.Body)
	d.Revision, _ = strconv.ParseInt(res.Header.Get("X-Hypergate-Revision"), 10, 64)
	if !d.Apply.Previewed && d.Apply.Errors == nil {
		// A fresh form starts from the configuration in service.
		d.Apply.YAML, d.Apply.Revision = d.YAML, d.Revision
	}
	if m.Can("revisions.read") {
		var revs struct {
			Data []store.Revision `json:"data"`
		}
		if !s.load(w, r, m, "/admin/v1/config/revisions", url.Values{"limit": {"50"}}, &revs) {
			return
		}
		d.Revisions = revs.Data
	}
	s.render(w, status, "config", view{Title: "Configuration", Me: m, Nav: "config", CSRF: m.CSRFToken, Data: d})
}

// applyConfig is the apply form: "preview" puts the pasted YAML as a dry
// run and shows what it would change; "apply" puts it for real, unless the
// configuration changed since the preview.
func (s *Server) applyConfig(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	d := &configData{}
	d.Apply.YAML = r.PostFormValue("yaml")
	d.Apply.Message = strings.TrimSpace(r.PostFormValue("message"))
	d.Apply.Revision = formRevision(r)
	apply := r.PostFormValue("action") == "apply"
	if apply && r.PostFormValue("digest") != digest(d.Apply.YAML) {
		// The text was edited after its preview: preview it again rather
		// than apply what nobody has seen the effect of.
		apply = false
		d.Notice = "The text changed since its preview: check this preview and apply again."
	}
	refuse := func(status int, msg string) {
		d.Apply.Errors = errorLines(msg)
		s.showConfig(w, r, m, status, d)
	}
	// The pasted text is parsed here with the same parser the admin API
	// uses, for errors that name its lines; what is put is its JSON form.
	cfg, err := config.Parse([]byte(d.Apply.YAML))
	if err != nil {
		refuse(http.StatusUnprocessableEntity, err.Error())
		return
	}
	var cur current
	if !s.load(w, r, m, "/admin/v1/config", nil, &cur) {
		return
	}
	if apply && cur.Revision != d.Apply.Revision {
		refuse(http.StatusConflict, staleMessage(d.Apply.Revision, cur.Revision)+" (preview it again)")
		return
	}
	q := url.Values{"dry_run": {strconv.FormatBool(!apply)}}
	if d.Apply.Message != "" {
		q.Set("message", "console: "+d.Apply.Message)
	} else {
		q.Set("message", "console: applied a configuration")
	}
	res, err := s.api(w, r, http.MethodPut, "/admin/v1/config", q, cfg, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status == http.StatusOK && apply:
		http.Redirect(w, r, "/config?applied=1", http.StatusSeeOther)
	case res.Status == http.StatusOK:
		var out admin.ApplyResult
		if err := json.Unmarshal(res.Body, &out); err != nil {
			s.internal(w, r, m, fmt.Errorf("decoding the dry run: %w", err))
			return
		}
		// The preview is of the revision now in service: apply refuses
		// if another one comes first.
		d.Apply.Previewed, d.Apply.Diff, d.Apply.Revision = true, out.Diff, cur.Revision
		d.Apply.Digest = digest(d.Apply.YAML)
		s.showConfig(w, r, m, http.StatusOK, d)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity:
		refuse(res.Status, res.message())
	default:
		s.fail(w, r, m, res)
	}
}

// digest is the hex SHA-256 of a previewed text.
// Line endings and surrounding space are left out: browsers post a
// textarea with CRLF, and neither changes the configuration.
func digest(text string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))))
	return hex.EncodeToString(sum[:])
}

// diffLine is one line of a line diff: Op is "+", "-" or " ".
type diffLine struct {
	Op, Text string
}

// lineDiff is the shortest line diff from a to b (longest common
// subsequence), for showing a revision against the configuration in
// service. Configurations are small enough for the quadratic table.
func lineDiff(a, b []string) []diffLine {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// revisionData is a revision's page.
type revisionData struct {
	Number    int64
	Author    string
	Message   string
	CreatedAt time.Time
	// Changes is the revision's own diff against the one before it.
	Changes []string
	YAML    string
	// Current is the revision in service; Diff goes from it to this one,
	// what restoring would do.
	Current int64
	Diff    []diffLine
	Same    bool
}

// revisionPage shows one revision: its YAML, what it changed, and how the
// configuration in service differs from it, with the restore button.
func (s *Server) revisionPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	n := r.PathValue("n")
	var rv struct {
		store.Revision
		Config json.RawMessage `json:"config"`
	}
	if !s.load(w, r, m, "/admin/v1/config/revisions/"+url.PathEscape(n), nil, &rv) {
		return
	}
	d := &revisionData{Number: rv.Number, Author: rv.Author, Message: rv.Message, CreatedAt: rv.CreatedAt,
		Changes: splitLines(rv.Diff)}
	cfg, err := config.ParseJSON(rv.Config)
	if err != nil {
		s.internal(w, r, m, fmt.Errorf("reading revision %d: %w", rv.Number, err))
		return
	}
	y, err := config.ToYAML(cfg)
	if err != nil {
		s.internal(w, r, m, fmt.Errorf("encoding revision %d: %w", rv.Number, err))
		return
	}
	d.YAML = string(y)
	res, err := s.api(w, r, http.MethodGet, "/admin/v1/config", url.Values{"format": {"yaml"}}, nil, "")
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status != http.StatusOK {
		s.fail(w, r, m, res)
		return
	}
	d.Current, _ = strconv.ParseInt(res.Header.Get("X-Hypergate-Revision"), 10, 64)
	d.Diff = lineDiff(splitLines(string(res.Body)), splitLines(d.YAML))
	d.Same = true
	for _, l := range d.Diff {
		if l.Op != " " {
			d.Same = false
			break
		}
	}
	s.render(w, http.StatusOK, "revision", view{Title: fmt.Sprintf("Revision %d", rv.Number), Me: m, Nav: "config", CSRF: m.CSRFToken, Data: d})
}

// restoreRevision puts a revision back in service; the form's checkbox is
// its confirmation.
func (s *Server) restoreRevision(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	if !s.checkPost(w, r, m) {
		return
	}
	n := r.PathValue("n")
	if r.PostFormValue("confirm") != "yes" {
		s.errorPage(w, r, m, http.StatusBadRequest, "tick the box to confirm that revision "+n+" should replace the configuration in service")
		return
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/config/revisions/"+url.PathEscape(n)+"/restore", nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if res.Status != http.StatusOK {
		s.fail(w, r, m, res)
		return
	}
	http.Redirect(w, r, "/config?restored="+url.QueryEscape(n), http.StatusSeeOther)
}
