package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/review"
)

// reviewQueueRow is one queue of the review page.
type reviewQueueRow struct {
	review.Status
	// Open counts the items waiting or held; Mine those assigned to the
	// signed-in user and not done.
	Open, Mine, Done int
}

type reviewListData struct {
	Queues []reviewQueueRow
	// Revision is the configuration the create form edits; 0 when the
	// user may not change the configuration, and the form is not shown.
	Revision int64
	Form     queueForm
	Errors   []string
}

// queueForm is the form that declares a review queue, for a newcomer who
// has not met review_queues: in the configuration yet.
type queueForm struct {
	Name, Description, Team, Dimensions string
	// Failing adds every call answered 5xx to the queue as it is recorded.
	Failing bool
}

// actor is how the admin API names the signed-in user in items.
func (m *me) actor() string { return m.Kind + ":" + m.Name }

// reviewList lists the review queues the user reaches.
func (s *Server) reviewList(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showReviewList(w, r, m, http.StatusOK, queueForm{Dimensions: "helpful"}, nil)
}

// createReviewQueue declares a queue in the configuration, as a revision
// like any other edit, and opens it.
func (s *Server) createReviewQueue(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	f := queueForm{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Team: strings.TrimSpace(r.PostFormValue("team")), Dimensions: r.PostFormValue("dimensions"), Failing: r.PostFormValue("failing") == "on"}
	q := config.ReviewQueue{Name: f.Name, Description: f.Description, Team: f.Team}
	for _, d := range strings.Split(f.Dimensions, ",") {
		if d = strings.TrimSpace(d); d != "" {
			q.Dimensions = append(q.Dimensions, d)
		}
	}
	if f.Failing {
		q.Rules = []config.ReviewRule{{When: config.ReviewMatch{Status: "5xx"}}}
	}
	out, err := s.editConfig(w, r, "add review queue "+f.Name, func(c *config.Config) error {
		if slices.ContainsFunc(c.ReviewQueues, func(x config.ReviewQueue) bool { return x.Name == f.Name }) {
			return fmt.Errorf("a review queue named %q already exists", f.Name)
		}
		c.ReviewQueues = append(c.ReviewQueues, q)
		return nil
	})
	s.afterEdit(w, r, m, out, err, "/review/"+url.PathEscape(f.Name), func(status int, errs []string) {
		s.showReviewList(w, r, m, status, f, errs)
	})
}

func (s *Server) showReviewList(w http.ResponseWriter, r *http.Request, m *me, status int, form queueForm, errs []string) {
	var list struct {
		Data []review.Status `json:"data"`
	}
	if !s.load(w, r, m, "/admin/v1/review-queues", nil, &list) {
		return
	}
	var d reviewListData
	for _, st := range list.Data {
		p := st.Progress
		row := reviewQueueRow{Status: st, Open: p.Pending + p.Locked, Done: p.Completed + p.Skipped}
		var mine review.ItemPage
		if _, ok, err := s.getJSON(w, r, "/admin/v1/review-queues/"+url.PathEscape(st.Name)+"/items",
			url.Values{"assignee": {m.actor()}, "limit": {"500"}}, &mine); err == nil && ok {
			for _, it := range mine.Items {
				if it.State == review.StatePending || it.State == review.StateLocked {
					row.Mine++
				}
			}
		}
		d.Queues = append(d.Queues, row)
	}
	d.Form, d.Errors = form, errs
	if m.Can("config.write") {
		var cur current
		if _, ok, err := s.getJSON(w, r, "/admin/v1/config", nil, &cur); err == nil && ok {
			d.Revision = cur.Revision
		}
	}
	s.render(w, status, "review", view{Title: "Review", Me: m, Nav: "review", CSRF: m.CSRFToken, Data: &d})
}

// scoreOption is one choice of a score, with the key that picks it.
type scoreOption struct {
	Value, Label, Key string
}

// scoreField is one dimension of a queue as a form field.
type scoreField struct {
	Name, Description string
	// Kind is boolean, choice (options picked by number), number, text,
	// or any (no definition the user may read: yes/no or another value).
	Kind     string
	Options  []scoreOption
	Min, Max *float64
}

// ID is the field's HTML id stem.
func (f scoreField) ID() string { return "score-" + f.Name }

// scoreFields makes the form of a queue's dimensions from the score
// definitions. The definitions are part of the configuration, which not
// every role may read: without them each dimension takes yes/no or any
// other value, and the admin API still checks the value against its
// definition.
func (s *Server) scoreFields(w http.ResponseWriter, r *http.Request, dims []string) []scoreField {
	var cfg struct {
		Config config.Config `json:"config"`
	}
	if _, ok, err := s.getJSON(w, r, "/admin/v1/config", nil, &cfg); err != nil || !ok {
		cfg.Config = config.Config{}
	}
	yesNo := []scoreOption{{"true", "Yes", "y"}, {"false", "No", "n"}}
	out := make([]scoreField, 0, len(dims))
	for _, d := range dims {
		f := scoreField{Name: d, Kind: "any", Options: yesNo}
		if def, ok := cfg.Config.FindScore(d); ok {
			f.Description, f.Min, f.Max, f.Options = def.Description, def.Min, def.Max, nil
			switch def.Type {
			case config.ScoreBoolean:
				f.Kind, f.Options = "boolean", yesNo
			case config.ScoreCategorical:
				f.Kind = "choice"
				for i, c := range def.Categories {
					f.Options = append(f.Options, scoreOption{c, c, numberKey(i)})
				}
			case config.ScoreNumeric:
				f.Kind = "number"
				if lo, hi := def.Min, def.Max; lo != nil && hi != nil && *lo == float64(int(*lo)) && *hi == float64(int(*hi)) && *hi-*lo < 9 && *hi >= *lo {
					f.Kind = "choice"
					for i, v := 0, int(*lo); v <= int(*hi); i, v = i+1, v+1 {
						n := strconv.Itoa(v)
						f.Options = append(f.Options, scoreOption{n, n, numberKey(i)})
					}
				}
			default:
				f.Kind = "text"
			}
		}
		out = append(out, f)
	}
	return out
}

// numberKey is the key that picks the i-th option: 1 to 9.
func numberKey(i int) string {
	if i < 9 {
		return strconv.Itoa(i + 1)
	}
	return ""
}

// scoreValues reads the posted scores in the JSON types the admin API
// takes; a dimension left blank is not scored.
func scoreValues(r *http.Request, fields []scoreField) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		v := strings.TrimSpace(r.PostFormValue("score." + f.Name))
		if f.Kind == "any" {
			if o := strings.TrimSpace(r.PostFormValue("other." + f.Name)); o != "" {
				v = o
			}
		}
		if v == "" {
			continue
		}
		switch f.Kind {
		case "text":
			out[f.Name] = v
			continue
		case "boolean", "any":
			if v == "true" || v == "false" {
				out[f.Name] = v == "true"
				continue
			}
		}
		if n, err := strconv.ParseFloat(v, 64); err == nil && f.Kind != "boolean" {
			out[f.Name] = n
			continue
		}
		out[f.Name] = v
	}
	return out
}

type reviewQueueData struct {
	Queue review.Status
	// Notice says what just happened (the queue ran empty).
	Notice string
}

// reviewQueuePage is a queue's workspace before an item is claimed: its
// progress and the button that claims the next item.
func (s *Server) reviewQueuePage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	notice := ""
	if r.URL.Query().Get("empty") != "" {
		notice = "No item is left for you to review in this queue."
	}
	s.showQueue(w, r, m, http.StatusOK, notice, "")
}

func (s *Server) showQueue(w http.ResponseWriter, r *http.Request, m *me, status int, notice, errMsg string) {
	d := reviewQueueData{Notice: notice}
	if !s.load(w, r, m, "/admin/v1/review-queues/"+url.PathEscape(r.PathValue("queue")), nil, &d.Queue) {
		return
	}
	s.render(w, status, "review_queue", view{Title: "Review: " + d.Queue.Name, Me: m, Nav: "review", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// reviewNext claims the next item and shows it; an empty queue goes back
// to the queue's page with a message.
func (s *Server) reviewNext(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	s.next(w, r, m)
}

// next claims the next item of the queue for the user and sends the
// browser to it.
func (s *Server) next(w http.ResponseWriter, r *http.Request, m *me) {
	queue := r.PathValue("queue")
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/review-queues/"+url.PathEscape(queue)+"/next", nil, nil, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch res.Status {
	case http.StatusOK:
		var n struct {
			Item review.Item `json:"item"`
		}
		if err := json.Unmarshal(res.Body, &n); err != nil {
			s.internal(w, r, m, err)
			return
		}
		http.Redirect(w, r, "/review/"+url.PathEscape(queue)+"/items/"+url.PathEscape(n.Item.ID), http.StatusSeeOther)
	case http.StatusNoContent:
		http.Redirect(w, r, "/review/"+url.PathEscape(queue)+"?empty=1", http.StatusSeeOther)
	default:
		s.fail(w, r, m, res)
	}
}

type reviewItemData struct {
	Queue  review.Status
	Item   review.Item
	Call   callData
	Fields []scoreField
	// Done and Total count the queue's finished and all items.
	Done, Total int
	// Values and Comment are what was posted, kept when the API refused
	// it.
	Values  map[string]string
	Comment string
}

// Checked reports whether option value was the posted one of a score.
func (d *reviewItemData) Checked(name, value string) bool { return d.Values[name] == value }

// reviewItemPage shows the item the user holds: the call, the queue's
// scores as a form, and Submit and Skip.
func (s *Server) reviewItemPage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok {
		return
	}
	s.showItem(w, r, m, http.StatusOK, "")
}

func (s *Server) showItem(w http.ResponseWriter, r *http.Request, m *me, status int, errMsg string) {
	queue, id := r.PathValue("queue"), r.PathValue("id")
	d := reviewItemData{Values: map[string]string{}, Comment: r.PostFormValue("comment")}
	if !s.load(w, r, m, "/admin/v1/review-queues/"+url.PathEscape(queue), nil, &d.Queue) {
		return
	}
	found, err := s.heldItem(w, r, m, queue, id, &d.Item)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if !found {
		s.showQueue(w, r, m, http.StatusConflict, "",
			"You no longer hold item "+id+": it was finished, or its lease ran out. Take the next item.")
		return
	}
	res, ok, err := s.getJSON(w, r, "/admin/v1/calls/"+url.PathEscape(d.Item.CallID), nil, &d.Call)
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	if !ok && res.Status != http.StatusNotFound {
		s.fail(w, r, m, res)
		return
	}
	d.Call.ID = d.Item.CallID
	d.Call.Request, d.Call.Response = pretty(d.Call.RequestBody), pretty(d.Call.ResponseBody)
	d.Fields = s.scoreFields(w, r, d.Queue.Dimensions)
	for _, f := range d.Fields {
		d.Values[f.Name] = r.PostFormValue("score." + f.Name)
	}
	p := d.Queue.Progress
	d.Done, d.Total = p.Completed+p.Skipped, p.Total
	s.render(w, status, "review_item", view{Title: "Review: " + d.Queue.Name, Me: m, Nav: "review", CSRF: m.CSRFToken, Error: errMsg, Data: &d})
}

// heldItem finds the item id among the queue's locked items held by the
// user.
func (s *Server) heldItem(w http.ResponseWriter, r *http.Request, m *me, queue, id string, out *review.Item) (bool, error) {
	q := url.Values{"state": {review.StateLocked}, "limit": {"500"}}
	for range 20 {
		var page review.ItemPage
		_, ok, err := s.getJSON(w, r, "/admin/v1/review-queues/"+url.PathEscape(queue)+"/items", q, &page)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
		for _, it := range page.Items {
			if it.ID == id {
				*out = it
				return it.LockedBy == m.actor(), nil
			}
		}
		if page.Next == "" {
			break
		}
		q.Set("cursor", page.Next)
	}
	return false, nil
}

// reviewAction completes or skips the held item, then takes the next.
func (s *Server) reviewAction(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	queue, id, action := r.PathValue("queue"), r.PathValue("id"), r.PathValue("action")
	var body any
	switch action {
	case "complete":
		var q review.Status
		if !s.load(w, r, m, "/admin/v1/review-queues/"+url.PathEscape(queue), nil, &q) {
			return
		}
		in := map[string]any{"scores": scoreValues(r, s.scoreFields(w, r, q.Dimensions))}
		if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
			in["comment"] = c
		}
		body = in
	case "skip":
		if c := strings.TrimSpace(r.PostFormValue("comment")); c != "" {
			body = map[string]string{"comment": c}
		}
	default:
		s.notFound(w, r)
		return
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/review-queues/"+url.PathEscape(queue)+"/items/"+url.PathEscape(id)+"/"+action,
		nil, body, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		s.next(w, r, m)
	case res.Status == http.StatusBadRequest:
		s.showItem(w, r, m, http.StatusBadRequest, res.message())
	case res.Status == http.StatusConflict:
		s.showQueue(w, r, m, http.StatusConflict, "", res.message())
	default:
		s.fail(w, r, m, res)
	}
}

// addToReview adds the call of the call page to a review queue.
func (s *Server) addToReview(w http.ResponseWriter, r *http.Request) {
	m, ok := s.whoami(w, r)
	if !ok || !s.checkPost(w, r, m) {
		return
	}
	queue := strings.TrimSpace(r.PostFormValue("queue"))
	if queue == "" {
		s.showCall(w, r, m, http.StatusBadRequest, "", "queue: choose a review queue")
		return
	}
	res, err := s.api(w, r, http.MethodPost, "/admin/v1/review-queues/"+url.PathEscape(queue)+"/items", nil,
		map[string][]string{"call_ids": {r.PathValue("id")}}, r.PostFormValue("csrf_token"))
	if err != nil {
		s.internal(w, r, m, err)
		return
	}
	switch {
	case res.Status < 300:
		var out struct {
			Added int `json:"added"`
		}
		_ = json.Unmarshal(res.Body, &out)
		notice := "Added to review queue " + queue + "."
		if out.Added == 0 {
			notice = "The call is already in review queue " + queue + "."
		}
		s.showCallWith(w, r, m, http.StatusOK, notice, "", queue)
	case res.Status == http.StatusBadRequest || res.Status == http.StatusNotFound && strings.Contains(res.message(), "review queue"):
		s.showCall(w, r, m, res.Status, "", res.message())
	default:
		s.fail(w, r, m, res)
	}
}

// reviewQueueNames lists the queues the user reaches, for the call page's
// form; none when they cannot be read.
func (s *Server) reviewQueueNames(w http.ResponseWriter, r *http.Request) []string {
	var list struct {
		Data []review.Status `json:"data"`
	}
	if _, ok, err := s.getJSON(w, r, "/admin/v1/review-queues", nil, &list); err != nil || !ok {
		return nil
	}
	names := make([]string, len(list.Data))
	for i, q := range list.Data {
		names[i] = q.Name
	}
	return names
}

// Left counts the queue's items not done yet.
func (d *reviewItemData) Left() int { return d.Total - d.Done }
