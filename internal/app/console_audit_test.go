package app_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// auditLinks finds the audit log's paging links.
var (
	auditOlder    = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">Older entries</a>`)
	auditNewer    = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="prev">Newer entries</a>`)
	auditTokenRow = regexp.MustCompile(`created token &#34;(t\d+)&#34;`)
)

func TestConsoleAudit(t *testing.T) {
	e := start(t)
	e.mustDo(201, "POST", "/admin/v1/teams", `{"name":"alpha"}`)
	op, _ := e.peopleBrowser("op@example.com", `"role":"admin"`)
	ta, _ := e.peopleBrowser("lead@example.com", `"role":"team_admin","team":"alpha"`)
	view, _ := e.peopleBrowser("view@example.com", `"role":"viewer"`)
	alphaTok := gjson.GetBytes(e.mustDo(201, "POST", "/admin/v1/tokens", `{"name":"alpha-ci","role":"developer","team":"alpha"}`), "id").Str
	const n = 110
	for i := range n {
		e.mustDo(201, "POST", "/admin/v1/tokens", fmt.Sprintf(`{"name":"t%03d","role":"viewer"}`, i))
	}

	// page fetches an audit page and returns the tokens it lists, in order,
	// and its paging links.
	page := func(t *testing.T, b *browser, path string) (names []string, body, older, newer string) {
		t.Helper()
		resp, body := b.get(path)
		checkPage(t, path, resp, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		for _, m := range auditTokenRow.FindAllStringSubmatch(body, -1) {
			names = append(names, m[1])
		}
		if m := auditOlder.FindStringSubmatch(body); m != nil {
			older = html.UnescapeString(m[1])
		}
		if m := auditNewer.FindStringSubmatch(body); m != nil {
			newer = html.UnescapeString(m[1])
		}
		return names, body, older, newer
	}

	t.Run("paging, newest first, both ways", func(t *testing.T) {
		first := "/audit?" + url.Values{"action": {"token.create"}, "actor": {"admin-token"}}.Encode()
		p1, body, older, newer := page(t, op, first)
		if len(p1) != 50 || p1[0] != "t109" || p1[49] != "t060" || older == "" || newer != "" {
			t.Fatalf("page 1: %d entries %v, older %q newer %q", len(p1), p1, older, newer)
		}
		if !strings.Contains(body, `<a href="/audit" aria-current="page">Audit</a>`) || strings.Contains(body, "created user") {
			t.Errorf("page 1: navigation, or the filter is not applied")
		}
		p2, _, older2, newer2 := page(t, op, older)
		if len(p2) != 50 || p2[0] != "t059" || older2 == "" || newer2 == "" {
			t.Fatalf("page 2: %d entries, older %q newer %q", len(p2), older2, newer2)
		}
		p3, body3, older3, newer3 := page(t, op, older2)
		if len(p3) != 10 || p3[0] != "t009" || p3[9] != "t000" || !strings.Contains(body3, "alpha-ci") || older3 != "" || newer3 == "" {
			t.Fatalf("page 3: %v, older %q newer %q", p3, older3, newer3)
		}
		back2, _, _, back1link := page(t, op, newer3)
		if strings.Join(back2, ",") != strings.Join(p2, ",") {
			t.Errorf("newer from page 3 is not page 2: %v", back2[:3])
		}
		back1, _, _, none := page(t, op, back1link)
		if strings.Join(back1, ",") != strings.Join(p1, ",") || none != "" {
			t.Errorf("newer from page 2 is not page 1: %v, newer %q", back1[:3], none)
		}
		if u, _ := url.Parse(older2); u.Query().Get("action") != "token.create" || u.Query().Get("actor") != "admin-token" {
			t.Errorf("the paging links lose the filters: %s", older2)
		}
	})

	cases := []struct {
		name      string
		who       *browser
		query     url.Values
		status    int
		want, not []string
	}{
		{"by target", op, url.Values{"target": {"token:" + alphaTok}}, 200,
			[]string{"alpha-ci", "(team alpha)", `value="token:` + alphaTok + `"`}, []string{"t000"}},
		{"by action prefix", op, url.Values{"action": {"user."}}, 200,
			[]string{"<code>user.create</code>", "created user lead@example.com"}, []string{"token.create"}},
		{"by team", op, url.Values{"team": {"alpha"}}, 200, []string{"alpha-ci", "created user lead@example.com"}, []string{"t000"}},
		{"since, as a datetime-local value", op, url.Values{"since": {"2000-01-01T00:00"}, "target": {"token:" + alphaTok}}, 200,
			[]string{"alpha-ci", `value="2000-01-01T00:00:00"`}, nil},
		{"nothing in the future", op, url.Values{"since": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, 200,
			[]string{"No entries match."}, []string{"Older entries"}},
		{"until the past", op, url.Values{"until": {"2000-01-01T00:00"}}, 200, []string{"No entries match."}, nil},
		{"a malformed time is refused with the form", op, url.Values{"since": {"yesterday"}}, 400,
			[]string{"neither an RFC 3339 time nor unix seconds", `value="yesterday"`, `action="/audit"`}, nil},
		{"a stale cursor is refused", op, url.Values{"cursor": {"bogus!"}}, 400, []string{`action="/audit"`}, nil},
		{"team admin: its team's entries only", ta, nil, 200,
			[]string{"alpha-ci", "created user lead@example.com", "Your team's entries only."},
			[]string{"t000", "created user view@example.com", `id="audit-team"`}},
		{"team admin asking for another team", ta, url.Values{"team": {"beta"}}, 200, []string{"No entries match."}, []string{"alpha-ci"}},
		{"viewer may not read the log", view, nil, 403, []string{"may not audit.read"}, []string{`href="/audit"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/audit"
			if len(c.query) > 0 {
				path += "?" + c.query.Encode()
			}
			resp, body := c.who.get(path)
			checkPage(t, path, resp, body)
			if resp.StatusCode != c.status {
				t.Fatalf("%s: %d, want %d\n%s", path, resp.StatusCode, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", path, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(body, w) {
					t.Errorf("%s shows %q", path, w)
				}
			}
		})
	}

	t.Run("entries show actor, time and request id", func(t *testing.T) {
		var page struct {
			Data []struct {
				Actor     string    `json:"actor"`
				Time      time.Time `json:"time"`
				RequestID string    `json:"request_id"`
			} `json:"data"`
		}
		e.adminDo("GET", "/admin/v1/audit?target=token:"+alphaTok, "", &page)
		if len(page.Data) != 1 || page.Data[0].RequestID == "" {
			t.Fatalf("the API's entry: %+v", page.Data)
		}
		want := page.Data[0]
		_, body := op.get("/audit?target=token:" + alphaTok)
		for _, w := range []string{"<td>" + want.Actor + "</td>", "<code>" + want.RequestID + "</code>", want.Time.UTC().Format("2006-01-02 15:04:05Z")} {
			if !strings.Contains(body, w) {
				t.Errorf("the entry lacks %q", w)
			}
		}
	})
}
