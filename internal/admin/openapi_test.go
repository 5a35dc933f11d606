package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/hypergate/hypergate/internal/alert"
	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/hypercare"
	"github.com/hypergate/hypergate/internal/probe"
	"github.com/hypergate/hypergate/internal/review"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/store"
	"github.com/hypergate/hypergate/internal/triage"
)

// The tests in this file hold openapi.json to what the handlers do: the
// document is well formed, documents exactly the registered routes, and every
// answer the handlers give in a scenario table has a documented status and
// validates against the documented schema with no undocumented fields.

// oasMethods are the OpenAPI operation keys of a path item.
var oasMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oasDoc is the embedded document, decoded generically.
type oasDoc struct {
	root map[string]any
}

func loadOASDoc(t *testing.T) oasDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(openAPI, &root); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return oasDoc{root: root}
}

// pointer resolves a local JSON pointer such as "#/components/schemas/Key".
func (d oasDoc) pointer(ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = d.root
	if frag == "" {
		return cur, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no member %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q: no element %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q: cannot descend into %T at %q", ref, cur, tok)
		}
	}
	return cur, nil
}

// deref follows a chain of $refs to the object they name.
func (d oasDoc) deref(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	for i := 0; ; i++ {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		if i == 32 {
			t.Fatalf("$ref cycle at %s", ref)
		}
		target, err := d.pointer(ref)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := target.(map[string]any)
		if !ok {
			t.Fatalf("%s names a %T, not an object", ref, target)
		}
		v = m
	}
}

// oasOperation is one documented operation.
type oasOperation struct {
	method   string // upper case, as in a ServeMux pattern
	path     string // the path template, e.g. /admin/v1/calls/{id}
	op       map[string]any
	security bool // whether it needs the admin token
}

func (o oasOperation) key() string { return o.method + " " + o.path }

func (d oasDoc) operations(t *testing.T) []oasOperation {
	t.Helper()
	paths, _ := d.root["paths"].(map[string]any)
	global := len(asSlice(d.root["security"])) > 0
	var ops []oasOperation
	for path, item := range paths {
		for _, m := range oasMethods {
			op, ok := item.(map[string]any)[m].(map[string]any)
			if !ok {
				continue
			}
			secured := global
			if s, ok := op["security"]; ok {
				secured = len(asSlice(s)) > 0
			}
			ops = append(ops, oasOperation{method: strings.ToUpper(m), path: path, op: op, security: secured})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key() < ops[j].key() })
	return ops
}

// find returns the documented operation serving a request.
func (d oasDoc) find(t *testing.T, method, path string) (oasOperation, bool) {
	t.Helper()
	for _, o := range d.operations(t) {
		if o.method == method && templateMatches(o.path, path) {
			return o, true
		}
	}
	return oasOperation{}, false
}

func templateMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// TestOpenAPIDocument checks the document on its own: strict JSON, OpenAPI
// 3.1, every $ref resolvable, every operation named and answering 2xx, and
// every schema a valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
func TestOpenAPIDocument(t *testing.T) {
	// encoding/json keeps the last of two equal keys without a word, and a
	// hand-written document is where duplicates happen.
	if err := checkDuplicateKeys(json.NewDecoder(bytes.NewReader(openAPI)), "$"); err != nil {
		t.Fatal(err)
	}
	d := loadOASDoc(t)

	if v, _ := d.root["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info, _ := d.root["info"].(map[string]any)
	if info["title"] != "Hypergate admin API" || info["version"] != "v1" {
		t.Errorf("info title/version = %v/%v", info["title"], info["version"])
	}
	if desc, _ := info["description"].(string); !strings.Contains(desc, "Authorization: Bearer <admin token>") {
		t.Errorf("info.description does not say how to authenticate")
	}

	var refs int
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if _, err := d.pointer(ref); err != nil {
					t.Errorf("%s: unresolved $ref: %v", at, err)
				}
			}
			for k, c := range v {
				walk(c, at+"/"+escapePointer(k))
			}
		case []any:
			for i, c := range v {
				walk(c, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(d.root, "#")
	if refs == 0 {
		t.Error("no $ref found: the walk is broken")
	}

	ids := map[string]string{}
	for _, o := range d.operations(t) {
		id, _ := o.op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s has no operationId", o.key())
		case ids[id] != "":
			t.Errorf("operationId %q is used by %s and %s", id, ids[id], o.key())
		default:
			ids[id] = o.key()
		}
		if s, _ := o.op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", o.key())
		}
		responses, _ := o.op["responses"].(map[string]any)
		ok2xx := false
		for status := range responses {
			ok2xx = ok2xx || strings.HasPrefix(status, "2")
		}
		if !ok2xx {
			t.Errorf("%s has no 2xx response", o.key())
		}
		if o.security && responses["401"] == nil {
			t.Errorf("%s needs the admin token but does not document 401", o.key())
		}
		// Every path parameter of the template is declared, on the path
		// item or the operation.
		params := map[string]bool{}
		item := d.root["paths"].(map[string]any)[o.path].(map[string]any)
		for _, p := range append(asSlice(item["parameters"]), asSlice(o.op["parameters"])...) {
			p := d.deref(t, p.(map[string]any))
			if p["in"] == "path" {
				params[p["name"].(string)] = true
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(o.path, -1) {
			if !params[m[1]] {
				t.Errorf("%s does not declare path parameter %q", o.key(), m[1])
			}
		}
	}

	c := d.compiler(t)
	schemas := d.root["components"].(map[string]any)["schemas"].(map[string]any)
	for name := range schemas {
		if _, err := c.Compile(oasBase + "#/components/schemas/" + escapePointer(name)); err != nil {
			t.Errorf("components/schemas/%s: %v", name, err)
		}
	}

	// The provider type enum lists what the configuration accepts.
	types := asSlice(d.property(t, "Provider", "type")["enum"])
	var got []string
	for _, v := range types {
		got = append(got, v.(string))
	}
	if want := config.ProviderTypes(); !slices.Equal(got, want) {
		t.Errorf("Provider.type enum = %v, config.ProviderTypes() = %v", got, want)
	}
}

func checkDuplicateKeys(dec *json.Decoder, at string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("openapi.json at %s: %w", at, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("openapi.json: key %q appears twice in %s", key, at)
			}
			seen[key] = true
			if err := checkDuplicateKeys(dec, at+"."+key); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkDuplicateKeys(dec, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// property returns a property schema of a component schema.
func (d oasDoc) property(t *testing.T, schema, prop string) map[string]any {
	t.Helper()
	props, _ := d.objectShape(t, d.schema(t, schema))
	p, ok := props[prop]
	if !ok {
		t.Fatalf("components/schemas/%s has no property %q", schema, prop)
	}
	return d.deref(t, p)
}

func (d oasDoc) schema(t *testing.T, name string) map[string]any {
	t.Helper()
	s, err := d.pointer("#/components/schemas/" + escapePointer(name))
	if err != nil {
		t.Fatal(err)
	}
	return s.(map[string]any)
}

// objectShape merges the properties and required lists of a schema and of
// its allOf members.
func (d oasDoc) objectShape(t *testing.T, s map[string]any) (props map[string]map[string]any, required map[string]bool) {
	t.Helper()
	props, required = map[string]map[string]any{}, map[string]bool{}
	var add func(s map[string]any)
	add = func(s map[string]any) {
		s = d.deref(t, s)
		p, _ := s["properties"].(map[string]any)
		for k, v := range p {
			props[k] = v.(map[string]any)
		}
		for _, r := range asSlice(s["required"]) {
			required[r.(string)] = true
		}
		for _, m := range asSlice(s["allOf"]) {
			add(m.(map[string]any))
		}
	}
	add(s)
	return props, required
}

// TestOpenAPISchemasMatchGoTypes checks the schemas of JSON the gateway
// writes from Go structs against those structs: the same field names and,
// for answers, a field is required exactly when it is not omitempty.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	d := loadOASDoc(t)
	tests := []struct {
		schema string
		typ    reflect.Type
		extra  []string // properties the handler adds to the struct
		// answer: the schema describes only answers, so required must follow
		// omitempty. Configuration schemas also describe requests, where
		// required follows validation instead.
		answer bool
	}{
		{"CallRecord", reflect.TypeFor[calllog.Record](), nil, true},
		{"CallPage", reflect.TypeFor[calllog.Page](), nil, true},
		{"CallWithFeedback", reflect.TypeFor[calllog.Record](), []string{"feedback"}, true},
		{"Feedback", reflect.TypeFor[feedback.Feedback](), nil, true},
		{"PageFeedback", reflect.TypeFor[feedback.PageFeedback](), nil, true},
		{"PageFeedbackCounts", reflect.TypeFor[store.PageFeedbackCounts](), nil, true},
		{"PageFeedbackList", reflect.TypeFor[store.PageFeedbackPage](), nil, true},
		{"PublishableKey", reflect.TypeFor[feedback.PublishableKey](), nil, true},
		{"CreatedPublishableKey", reflect.TypeFor[feedback.PublishableKey](), []string{"key", "warning"}, true},
		{"Score", reflect.TypeFor[config.Score](), nil, false},
		{"Key", reflect.TypeFor[auth.Key](), nil, true},
		{"CreatedKey", reflect.TypeFor[auth.Key](), []string{"key", "warning"}, true},
		{"KeyView", reflect.TypeFor[keyView](), nil, true},
		{"ConsumerView", reflect.TypeFor[consumerView](), nil, true},
		{"Revision", reflect.TypeFor[store.Revision](), []string{"config"}, false},
		{"ApplyResult", reflect.TypeFor[ApplyResult](), nil, true},
		{"Config", reflect.TypeFor[config.Config](), nil, false},
		{"Notifier", reflect.TypeFor[config.Notifier](), nil, false},
		{"Alert", reflect.TypeFor[config.Alert](), nil, false},
		{"Probe", reflect.TypeFor[config.Probe](), nil, false},
		{"ProbeAssertions", reflect.TypeFor[config.ProbeAssertions](), nil, false},
		{"ProbeJSONAssertion", reflect.TypeFor[config.ProbeJSONAssertion](), nil, false},
		{"ProbeStatus", reflect.TypeFor[probe.Status](), nil, true},
		{"Incident", reflect.TypeFor[triage.Incident](), nil, true},
		{"IncidentDetail", reflect.TypeFor[triage.Detail](), nil, true},
		{"IncidentTrend", reflect.TypeFor[triage.Trend](), nil, true},
		{"IncidentSample", reflect.TypeFor[triage.Sample](), nil, true},
		{"IncidentHourCount", reflect.TypeFor[triage.HourCount](), nil, true},
		{"IncidentNote", reflect.TypeFor[triage.Note](), nil, true},
		{"IncidentMoveRequest", reflect.TypeFor[incidentMove](), nil, false},
		{"IncidentNoteRequest", reflect.TypeFor[noteRequest](), nil, false},
		{"Triage", reflect.TypeFor[config.Triage](), nil, false},
		{"StatusServiceState", reflect.TypeFor[status.ServiceState](), nil, true},
		{"StatusReason", reflect.TypeFor[status.Reason](), nil, true},
		{"StatusIncident", reflect.TypeFor[status.Incident](), nil, true},
		{"StatusUpdate", reflect.TypeFor[status.Update](), nil, true},
		{"StatusIncidentRequest", reflect.TypeFor[status.NewIncident](), nil, false},
		{"StatusUpdateRequest", reflect.TypeFor[status.NewUpdate](), nil, false},
		{"StatusSubscriber", reflect.TypeFor[status.Subscriber](), nil, true},
		{"StatusSubscriberRequest", reflect.TypeFor[status.NewSubscriber](), nil, false},
		{"StatusPageConfig", reflect.TypeFor[config.StatusPage](), nil, false},
		{"Hypercare", reflect.TypeFor[config.Hypercare](), nil, false},
		{"HypercareTarget", reflect.TypeFor[config.HypercareTarget](), nil, false},
		{"HypercareRelease", reflect.TypeFor[config.HypercareRelease](), nil, false},
		{"HypercarePrompt", reflect.TypeFor[config.HypercarePrompt](), nil, false},
		{"HypercarePeriod", reflect.TypeFor[config.HypercarePeriod](), nil, false},
		{"HypercareExit", reflect.TypeFor[config.HypercareExit](), nil, false},
		{"HypercareVerdict", reflect.TypeFor[config.HypercareVerdict](), nil, false},
		{"HypercareWindow", reflect.TypeFor[hypercareWindow](), nil, true},
		{"HypercareReport", reflect.TypeFor[hypercare.Report](), nil, true},
		{"HypercarePeriodFigures", reflect.TypeFor[hypercare.Period](), nil, true},
		{"HypercareMetric", reflect.TypeFor[hypercare.Metric](), nil, true},
		{"HypercareCriterion", reflect.TypeFor[hypercare.Criterion](), nil, true},
		{"HypercareExitDay", reflect.TypeFor[hypercare.ExitDay](), nil, true},
		{"HypercareExitStatus", reflect.TypeFor[hypercare.Exit](), nil, true},
		{"HypercareStoredReport", reflect.TypeFor[hypercare.StoredReport](), nil, true},
		{"Detectors", reflect.TypeFor[config.Detectors](), nil, false},
		{"RefusalDetector", reflect.TypeFor[config.RefusalDetector](), nil, false},
		{"RepetitionDetector", reflect.TypeFor[config.RepetitionDetector](), nil, false},
		{"LongOutputDetector", reflect.TypeFor[config.LongOutputDetector](), nil, false},
		{"LanguageDetector", reflect.TypeFor[config.LanguageDetector](), nil, false},
		{"OutlierDetector", reflect.TypeFor[config.OutlierDetector](), nil, false},
		{"ErrorBurstDetector", reflect.TypeFor[config.ErrorBurstDetector](), nil, false},
		{"ProbeResult", reflect.TypeFor[probe.Result](), nil, true},
		{"ProbeFailure", reflect.TypeFor[probe.Failure](), nil, true},
		{"AlertThreshold", reflect.TypeFor[config.AlertThreshold](), nil, false},
		{"AlertRuleStatus", reflect.TypeFor[alert.RuleStatus](), nil, true},
		{"AlertGroupStatus", reflect.TypeFor[alert.GroupStatus](), nil, true},
		{"AlertEvent", reflect.TypeFor[alert.Event](), nil, true},
		{"AlertMatcher", reflect.TypeFor[alert.Matcher](), nil, true},
		{"Silence", reflect.TypeFor[alert.Silence](), nil, true},
		{"SilenceRequest", reflect.TypeFor[silenceRequest](), nil, false},
		{"Provider", reflect.TypeFor[config.Provider](), nil, false},
		{"Model", reflect.TypeFor[config.Model](), nil, false},
		{"Target", reflect.TypeFor[config.Target](), nil, false},
		{"Price", reflect.TypeFor[config.Price](), nil, false},
		{"Consumer", reflect.TypeFor[config.Consumer](), nil, false},
		{"ConsumerKey", reflect.TypeFor[config.ConsumerKey](), nil, false},
		{"User", reflect.TypeFor[auth.User](), nil, true},
		{"CreateUserRequest", reflect.TypeFor[userRequest](), nil, false},
		{"UpdateUserRequest", reflect.TypeFor[userRequest](), nil, false},
		{"LoginRequest", reflect.TypeFor[loginRequest](), nil, false},
		{"LoginResult", reflect.TypeFor[loginResult](), nil, true},
		{"PasswordChange", reflect.TypeFor[passwordChange](), nil, false},
		{"Me", reflect.TypeFor[meView](), nil, true},
		{"Token", reflect.TypeFor[auth.Token](), nil, true},
		{"CreatedToken", reflect.TypeFor[createdToken](), nil, true},
		{"CreateTokenRequest", reflect.TypeFor[tokenRequest](), nil, false},
		{"TeamView", reflect.TypeFor[teamView](), nil, true},
		{"TeamUpdate", reflect.TypeFor[config.Team](), nil, false},
		{"MemberRequest", reflect.TypeFor[memberRequest](), nil, false},
		{"AuditEntry", reflect.TypeFor[auth.AuditEntry](), nil, true},
		{"AuditPage", reflect.TypeFor[auth.AuditPage](), nil, true},
		{"ServiceView", reflect.TypeFor[serviceView](), nil, true},
		{"ServiceCanary", reflect.TypeFor[config.ServiceCanary](), nil, false},
		{"Release", reflect.TypeFor[catalog.Release](), nil, true},
		{"Draft", reflect.TypeFor[catalog.Draft](), nil, true},
		{"DraftDiff", reflect.TypeFor[draftDiff](), nil, true},
		{"PublishRequest", reflect.TypeFor[publishRequest](), nil, false},
		{"LifecycleRequest", reflect.TypeFor[lifecycleRequest](), nil, false},
		{"Subscription", reflect.TypeFor[catalog.Subscription](), nil, true},
		{"SubscriptionRequest", reflect.TypeFor[subscriptionRequest](), nil, false},
		{"DecisionRequest", reflect.TypeFor[decisionRequest](), nil, false},
		{"CatalogEntry", reflect.TypeFor[catalog.Entry](), nil, true},
		{"OpenAPIDocumentInfo", reflect.TypeFor[catalog.OpenAPIDocument](), nil, true},
		{"ImportRequest", reflect.TypeFor[importRequest](), nil, false},
		{"RotateKeyRequest", reflect.TypeFor[rotateRequest](), nil, false},
		{"RotatedKey", reflect.TypeFor[rotatedKey](), nil, true},
		{"Webhook", reflect.TypeFor[config.Webhook](), nil, false},
		{"ConsumerJWT", reflect.TypeFor[config.ConsumerJWT](), nil, false},
		{"Service", reflect.TypeFor[config.Service](), nil, false},
		{"ReviewQueue", reflect.TypeFor[config.ReviewQueue](), nil, false},
		{"ReviewRule", reflect.TypeFor[config.ReviewRule](), nil, false},
		{"ReviewMatch", reflect.TypeFor[config.ReviewMatch](), nil, false},
		{"ReviewQueueStatus", reflect.TypeFor[review.Status](), nil, true},
		{"ReviewProgress", reflect.TypeFor[review.Progress](), nil, true},
		{"ReviewerProgress", reflect.TypeFor[review.ReviewerProgress](), nil, true},
		{"ReviewAgreement", reflect.TypeFor[review.Agreement](), nil, true},
		{"ReviewItem", reflect.TypeFor[review.Item](), nil, true},
		{"ReviewItemPage", reflect.TypeFor[review.ItemPage](), nil, true},
		{"ReviewNext", reflect.TypeFor[reviewNext](), nil, true},
		{"ReviewAddRequest", reflect.TypeFor[reviewAddRequest](), nil, false},
		{"ReviewAddResult", reflect.TypeFor[reviewAddResult](), nil, true},
		{"ReviewInput", reflect.TypeFor[review.Input](), nil, false},
		{"ReviewSkipRequest", reflect.TypeFor[reviewSkipRequest](), nil, false},
		{"ReviewAssignRequest", reflect.TypeFor[reviewAssignRequest](), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			props, required := d.objectShape(t, d.schema(t, tt.schema))
			fields := jsonFields(tt.typ)
			want := map[string]bool{}
			for name := range fields {
				want[name] = true
			}
			for _, e := range tt.extra {
				want[e] = true
			}
			for name := range want {
				if _, ok := props[name]; !ok {
					t.Errorf("%s lacks property %q of %v", tt.schema, name, tt.typ)
				}
			}
			for name := range props {
				if !want[name] {
					t.Errorf("%s has property %q that %v does not have", tt.schema, name, tt.typ)
				}
			}
			if !tt.answer {
				return
			}
			for name, omitempty := range fields {
				if required[name] == omitempty {
					t.Errorf("%s: %q required = %v, but omitempty = %v", tt.schema, name, required[name], omitempty)
				}
			}
		})
	}
}

// jsonFields returns the JSON member names encoding/json writes for a
// struct type, each with whether it is omitempty. Embedded structs are
// flattened and a shallower field hides a deeper one of the same name, as
// encoding/json does.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	depth := map[string]int{}
	var walk func(t reflect.Type, d int)
	walk = func(t reflect.Type, d int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, d+1)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if prev, ok := depth[name]; ok && prev <= d {
				continue
			}
			depth[name] = d
			out[name] = slices.Contains(strings.Split(opts, ","), "omitempty")
		}
	}
	walk(t, 0)
	return out
}

// TestOpenAPIOperationsMatchRoutes checks that the document describes
// exactly the routes Handler registers.
//
// A ServeMux cannot list its routes, and probing it does not tell them
// apart: the /admin/v1/ catch-all sits behind the token check, so without a
// token a registered route and an unregistered one both answer 401. So the
// registered routes are read from this package's source: every call whose
// first argument is a string literal "METHOD /path" (api(...),
// mux.HandleFunc(...), mux.Handle(...), or whatever helper replaces them)
// is a route, which holds however the registration is wrapped. The reverse
// direction is also checked at run time by TestOpenAPIScenarios, which
// sends a request to every documented operation and would get the
// catch-all's 404 for one that is not registered.
func TestOpenAPIOperationsMatchRoutes(t *testing.T) {
	d := loadOASDoc(t)
	registered := registeredRoutes(t)
	documented := map[string]bool{}
	for _, o := range d.operations(t) {
		documented[o.key()] = true
	}
	for _, r := range registered {
		if !documented[r] {
			t.Errorf("route %q is registered but not documented in openapi.json", r)
		}
	}
	for op := range documented {
		if !slices.Contains(registered, op) {
			t.Errorf("openapi.json documents %q, which is not registered", op)
		}
	}
	if len(registered) < 10 {
		t.Errorf("found only %d routes in the source: %v; has the registration changed shape?", len(registered), registered)
	}
}

var routePattern = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE) (/\S*)$`)

func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			switch {
			case routePattern.MatchString(s):
				routes = append(routes, s)
			case strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/"):
				// A route without a method answers every method; the
				// document would have to list each. Catch-alls ("/x/")
				// are fine: they only answer what is not a route.
				t.Errorf("%s: route %q has no method", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	sort.Strings(routes)
	return routes
}

// The fixture: in-memory implementations of Calls, Keys and Configs that
// behave as the store-backed ones do in the ways the handlers can observe.

const oasToken = "hga-openapi-test-token"

type oasCalls struct {
	mu       sync.Mutex
	records  []calllog.Record // newest first
	feedback map[string][]feedback.Feedback
	fail     error
}

func (c *oasCalls) ListCalls(ctx context.Context, f calllog.Filter) (calllog.Page, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return calllog.Page{}, c.fail
	}
	start := 0
	if f.Cursor != "" {
		n, ok := strings.CutPrefix(f.Cursor, "after:")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i > len(c.records) {
			return calllog.Page{}, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
		start = i
	}
	limit := f.Limit
	if limit == 0 {
		limit = store.DefaultCallLimit
	}
	var page calllog.Page
	for i := start; i < len(c.records); i++ {
		r := c.records[i]
		if f.Consumer != "" && r.Consumer != f.Consumer || f.Model != "" && r.Model != f.Model ||
			f.Service != "" && r.Service != f.Service ||
			f.Status != 0 && r.Status != f.Status || !f.Since.IsZero() && r.Time.Before(f.Since) ||
			!f.Until.IsZero() && !r.Time.Before(f.Until) ||
			f.HasFeedback != nil && *f.HasFeedback != (len(c.feedback[r.ID]) > 0) ||
			f.CacheHit != nil && *f.CacheHit != r.CacheHit ||
			f.Prompt != "" && r.Prompt != f.Prompt || f.PromptVersion != 0 && r.PromptVersion != f.PromptVersion ||
			f.Synthetic != nil && *f.Synthetic != r.Synthetic || f.Probe != "" && r.Probe != f.Probe {
			continue
		}
		if len(page.Calls) == limit {
			page.Next = "after:" + strconv.Itoa(i)
			break
		}
		// Lists carry no bodies, as in the store.
		r.RequestBody, r.ResponseBody = "", ""
		page.Calls = append(page.Calls, r)
	}
	return page, nil
}

func (c *oasCalls) ListCallsOf(ctx context.Context, f calllog.Filter, scope store.CallScope) (calllog.Page, error) {
	page, err := c.ListCalls(ctx, f)
	if err != nil {
		return page, err
	}
	kept := page.Calls[:0]
	for _, r := range page.Calls {
		if slices.Contains(scope.Consumers, r.Consumer) || r.Service != "" && slices.Contains(scope.Services, r.Service) {
			kept = append(kept, r)
		}
	}
	page.Calls = kept
	return page, nil
}

func (c *oasCalls) GetCall(ctx context.Context, id string) (calllog.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.records {
		if r.ID == id {
			return r, nil
		}
	}
	return calllog.Record{}, fmt.Errorf("call %q: %w", id, store.ErrNotFound)
}

func (c *oasCalls) ListFeedback(ctx context.Context, requestID string) ([]feedback.Feedback, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.feedback[requestID], nil
}

type oasKeys struct {
	mu   sync.Mutex
	keys []auth.Key
}

func (k *oasKeys) CreateKey(ctx context.Context, consumer, name string, expiresAt *time.Time) (auth.Key, string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	secret := auth.NewSecret("hg-")
	key := auth.Key{
		ID: fmt.Sprintf("key_%d", len(k.keys)+1), Consumer: consumer, Name: name,
		Prefix: auth.DisplayPrefix(secret), Hash: auth.HashKey(secret), CreatedAt: time.Now().UTC(), ExpiresAt: expiresAt,
	}
	k.keys = append(k.keys, key)
	return key, secret, nil
}

func (k *oasKeys) ListKeys(ctx context.Context, consumer string) ([]auth.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []auth.Key
	for _, key := range k.keys {
		if consumer == "" || key.Consumer == consumer {
			out = append(out, key)
		}
	}
	return out, nil
}

func (k *oasKeys) RevokeKey(ctx context.Context, id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range k.keys {
		if k.keys[i].ID == id {
			if k.keys[i].RevokedAt == nil {
				now := time.Now().UTC()
				k.keys[i].RevokedAt = &now
			}
			return nil
		}
	}
	return fmt.Errorf("key %q: %w", id, store.ErrNotFound)
}

type oasConfigs struct {
	mu   sync.Mutex
	cfg  *config.Config
	revs []store.Revision // oldest first
}

func (c *oasConfigs) Current() (*config.Config, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg, int64(len(c.revs))
}

func (c *oasConfigs) Apply(ctx context.Context, cfg *config.Config, author, message string, dryRun bool) (ApplyResult, error) {
	if err := cfg.Validate(); err != nil {
		return ApplyResult{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	diff := config.Diff(c.cfg, cfg)
	res := ApplyResult{Changed: len(diff) > 0, Diff: diff}
	if res.Diff == nil {
		res.Diff = []string{}
	}
	if dryRun || !res.Changed {
		return res, nil
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return ApplyResult{}, err
	}
	rev := store.Revision{
		Number: int64(len(c.revs)) + 1, Author: author, Message: message,
		CreatedAt: time.Now().UTC(), Config: b, Diff: strings.Join(diff, "\n") + "\n",
	}
	c.revs = append(c.revs, rev)
	c.cfg = cfg
	res.Revision = &rev
	return res, nil
}

func (c *oasConfigs) ListRevisions(ctx context.Context, limit int, before int64) ([]store.Revision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []store.Revision{}
	for i := len(c.revs) - 1; i >= 0 && len(out) < limit; i-- {
		if before == 0 || c.revs[i].Number < before {
			out = append(out, c.revs[i])
		}
	}
	return out, nil
}

func (c *oasConfigs) GetRevision(ctx context.Context, n int64) (store.Revision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > int64(len(c.revs)) {
		return store.Revision{}, fmt.Errorf("revision %d: %w", n, store.ErrNotFound)
	}
	return c.revs[n-1], nil
}

type oasFixture struct {
	calls    *oasCalls
	keys     *oasKeys
	configs  *oasConfigs
	db       *store.DB // users, sessions, tokens and the audit log
	t        *testing.T
	notReady error
	server   *Server
}

// Fixture accounts and secrets. oasSession is a session of oasAdminUser,
// created by the scenarios that need one.
const (
	oasPassword    = "correct horse battery staple"
	oasAdminUser   = "usr_ana"
	oasViewerToken = "hgt-fixture-viewer-token-0123456789abcdefghijklm"
	oasSession     = "hgs-fixture-session-0123456789abcdefghijklmnopqrs"
)

// oasPasswords hashes with the smallest argon2id cost, so that fixtures are
// cheap; the production cost is tested in internal/auth.
func oasPasswords() *auth.Passwords {
	return &auth.Passwords{Params: auth.PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}}
}

// withSession starts oasSession for oasAdminUser.
func withSession(f *oasFixture) {
	t := f.t
	t.Helper()
	now := time.Now()
	if err := f.db.CreateSession(t.Context(), auth.Session{ID: auth.HashKey(oasSession), UserID: oasAdminUser,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), ClientIP: "192.0.2.1", UserAgent: "test"}); err != nil {
		t.Fatal(err)
	}
}

// oasBaseConfig is revision 1 of the fixture; oasFullConfig, revision 2,
// sets every field of every configuration type so that the answers that
// show it exercise the whole Config schema.
const oasBaseConfig = `
providers:
  - name: openai-main
    type: openai
    api_key: env:OPENAI_API_KEY
models:
  - name: gpt-4o-mini
    targets:
      - { provider: openai-main }
`

const oasFullConfig = `
providers:
  - name: openai-main
    type: openai
    api_key: env:OPENAI_API_KEY
    headers: { OpenAI-Organization: org-hypergate, X-Api-Key: env:OPENAI_EXTRA }
    timeout: 30s
  - name: local-vllm
    type: openai
    base_url: http://127.0.0.1:8000/v1
    api_keys: [env:VLLM_KEY_1, env:VLLM_KEY_2]
models:
  - name: gpt-4o-mini
    strategy: priority
    targets:
      - { provider: openai-main, model: gpt-4o-mini-2024-07-18, weight: 3 }
      - { provider: local-vllm, model: meta-llama/Llama-3-8B, weight: 0 }
    timeout: 14d
    price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
    log_bodies: false
consumers:
  - name: web-shop
    team: payments
    keys:
      - { name: default, key: env:WEB_SHOP_KEY }
    models: [gpt-4o-mini]
    log_bodies: true
    body_max_bytes: 4096
teams:
  - name: payments
  - name: apps
hypercare:
  - name: mini-launch
    target: { model: gpt-4o-mini }
    start: 2026-03-01T00:00:00Z
    duration: 14d
    exit: { error_rate: 0.01, latency_p95: 2s, days: 2 }
review_queues:
  - name: answers
    description: Answers users said did not help
    team: payments
    dimensions: [helpful, rating]
    reviews_per_item: 2
    lease: 10m
    reviewers: [ana@example.com, dev@example.com, qa-bot]
    rules:
      - { when: { feedback: { helpful: false } }, sample: 0.5 }
      - { when: { service: support-bot, route: chat, model: gpt-4o-mini, consumer: web-shop, status: 4xx, flag: refusal } }
      - { when: { polarity: negative } }
`

func newOASFixture(t *testing.T) *oasFixture {
	t.Helper()
	at := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	full := calllog.Record{
		ID: "req_full", Time: at, Consumer: "web-shop", KeyID: "key_1", Endpoint: "/v1/chat/completions",
		Service: "support-bot", Route: "chat", Model: "gpt-4o-mini", Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18",
		Status: 429, ErrorType: "rate_limit_error", ErrorMessage: "upstream rate limit",
		LatencyUS: 123456, UpstreamUS: 120000, TTFTUS: 45000, InputTokens: 12, OutputTokens: 34,
		CostUSD: 0.000022, Stream: true, RequestBytes: 321, ResponseBytes: 654,
		ClientIP: "203.0.113.7", UserAgent: "openai-python/1.0", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		RequestBody: `{"model":"gpt-4o-mini"}`, ResponseBody: `{"error":{}}`,
		Attempts: []calllog.Attempt{
			{Provider: "openai-main", UpstreamModel: "gpt-4o-mini-2024-07-18", KeyID: "openai-main#1", Status: 500, ErrorType: "server_error", LatencyUS: 2000},
			{Provider: "anthropic", UpstreamModel: "claude-haiku-4-5", KeyID: "anthropic#1", Status: 429, ErrorType: "rate_limit_error", LatencyUS: 3000},
		},
		Fallback: true, UsageEstimated: true, Dropped: []string{"logit_bias"}, CacheHit: true,
		Prompt: "summarize", PromptVersion: 2, Release: 3, Synthetic: true, Probe: "chat-canary", Flags: []string{"latency_outlier"},
	}
	requireAllFieldsSet(t, full)
	requireAllFieldsSet(t, full.Attempts[0])
	fb := []feedback.Feedback{
		{ID: "fb_1", RequestID: "req_full", Consumer: "web-shop", Name: "helpful", Value: feedback.BoolValue(true),
			Comment: "right answer", CreatedAt: at, UpdatedAt: at.Add(time.Minute),
			Source: feedback.SourceUser, Author: "pk_id_fixture", Polarity: feedback.PolarityPositive},
		{ID: "fb_2", RequestID: "req_full", Consumer: "web-shop", Name: "score", Value: feedback.Value{Kind: feedback.Numeric, Num: 0.8},
			CreatedAt: at, UpdatedAt: at},
		{ID: "fb_3", RequestID: "req_full", Consumer: "web-shop", Name: "category", Value: feedback.Value{Kind: feedback.String, Str: "billing"},
			CreatedAt: at, UpdatedAt: at},
	}
	requireAllFieldsSet(t, fb[0])
	revoked := at.Add(time.Hour)
	keys := []auth.Key{
		{ID: "key_1", Consumer: "web-shop", Name: "ci", Prefix: "hg-AbCdEfG", Hash: auth.HashKey("x"), CreatedAt: at, RevokedAt: &revoked, ExpiresAt: &revoked},
		{ID: "key_2", Consumer: "web-shop", Name: "prod", Prefix: "hg-HiJkLmN", Hash: auth.HashKey("y"), CreatedAt: at},
	}
	requireAllFieldsSet(t, keys[0])

	f := &oasFixture{
		calls: &oasCalls{
			records: []calllog.Record{
				full,
				{ID: "req_minimal", Time: at.Add(-time.Hour), Endpoint: "/v1/models", Status: 401, LatencyUS: 80},
			},
			feedback: map[string][]feedback.Feedback{"req_full": fb},
		},
		keys:    &oasKeys{keys: keys},
		configs: &oasConfigs{},
	}
	for _, src := range []string{oasBaseConfig, oasFullConfig} {
		cfg, err := config.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.configs.Apply(t.Context(), cfg, "serve --config hypergate.yaml", "fixture", false); err != nil {
			t.Fatal(err)
		}
	}
	db := oasDB(t)
	f.db = db
	pw := oasPasswords()
	hash, err := pw.Hash(t.Context(), oasPassword)
	if err != nil {
		t.Fatal(err)
	}
	login := at.Add(2 * time.Hour)
	users := []auth.User{
		{ID: oasAdminUser, Email: "ana@example.com", Name: "Ana", Role: auth.RoleAdmin, PasswordHash: hash, CreatedAt: at, UpdatedAt: at},
		{ID: "usr_dev", Email: "dev@example.com", Name: "Dev", Role: auth.RoleDeveloper, Team: "payments", PasswordHash: hash, CreatedAt: at, UpdatedAt: at},
		{ID: "usr_new", Email: "new@example.com", PasswordHash: hash, CreatedAt: at, UpdatedAt: at},
		{ID: "usr_app", Email: "app@example.com", Name: "App", Role: auth.RoleConsumer, Consumer: "web-shop", Disabled: true,
			PasswordHash: hash, CreatedAt: at, UpdatedAt: at, LastLoginAt: &login},
	}
	// No one user has every field (a team and a consumer exclude each
	// other); listing them all shows every field.
	for _, u := range users {
		if err := db.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordLogin(t.Context(), "usr_app", login); err != nil {
		t.Fatal(err)
	}
	expires := at.Add(365 * 24 * time.Hour)
	tokens := []auth.Token{
		{ID: "tok_viewer", Name: "dashboards", Role: auth.RoleViewer, Prefix: auth.DisplayPrefix(oasViewerToken), Hash: auth.HashKey(oasViewerToken),
			CreatedBy: "admin-token", CreatedAt: at},
		{ID: "tok_full", Name: "ci", Role: auth.RoleConsumer, Consumer: "web-shop", Team: "", Prefix: "hgt-AbCdEf", Hash: auth.HashKey("hgt-x"),
			CreatedBy: "user:ana@example.com", CreatedAt: at, ExpiresAt: &expires, LastUsedAt: &login, RevokedAt: &login},
	}
	for _, tk := range tokens {
		if err := db.CreateToken(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AppendAudit(t.Context(), auth.AuditEntry{Time: at, Actor: "user:ana@example.com", Action: "consumer.create",
		Target: "consumer:web-shop", Team: "payments", Summary: "created consumer web-shop (revision 2)", Diff: "+ consumer web-shop",
		ClientIP: "192.0.2.1", RequestID: "req-fixture"}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "hypergate_test_total", Help: "A test counter."}))
	sum := sha256.Sum256([]byte(oasToken))
	f.server = &Server{
		Calls: f.calls, Keys: f.keys, Configs: f.configs,
		Users: db, Sessions: db, Tokens: db, Audit: db, Passwords: pw, Releases: db, Analytics: db, Rollups: db,
		Alerts:    newOASAlerts(t, db),
		Probes:    oasProbes{},
		Feedback:  newOASFeedback(t, db, f.calls),
		Hypercare: db,
		Reviews:   newOASReviews(db, f.calls, f.configs), // review_test.go
		Status:    newOASStatus(t, db),
		Incidents: newOASIncidents(t, db),
		TokenHash: hex.EncodeToString(sum[:]),
		Ready:     func(context.Context) error { return f.notReady },
		Metrics:   promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	return f
}

// requireAllFieldsSet fails when a fixture leaves a field at its zero
// value, which would let the schema check skip it.
func requireAllFieldsSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() && rv.Type().Field(i).Tag.Get("json") != "-" {
			t.Fatalf("fixture %T leaves %s unset", v, rv.Type().Field(i).Name)
		}
	}
}

type oasCase struct {
	name    string
	method  string
	target  string
	body    string
	header  map[string]string
	setup   func(f *oasFixture)
	want    int
	noToken bool
	// targetOf, when set, replaces target once setup has run: for paths
	// naming what setup created under an id the store chose.
	targetOf func(f *oasFixture) string
}

// TestOpenAPIScenarios sends requests covering every documented operation
// and checks each answer against the document: the operation exists, the
// status is documented, the Content-Type is one of the documented media
// types, and the body validates against the documented schema without
// fields the schema does not declare.
func TestOpenAPIScenarios(t *testing.T) {
	d := loadOASDoc(t)
	c := d.compiler(t)
	big := strings.Repeat("# padding\n", (8<<20)/10+1)
	tests := []oasCase{
		{name: "list calls", method: "GET", target: "/admin/v1/calls", want: 200},
		{name: "list calls with every filter", method: "GET", want: 200,
			target: "/admin/v1/calls?since=2026-01-01T00:00:00Z&until=1900000000&consumer=web-shop&model=gpt-4o-mini&service=support-bot&status=429&has_feedback=true&cache_hit=true&prompt=summarize&prompt_version=2&synthetic=true&probe=chat-canary&limit=1"},
		{name: "list calls with synthetic=maybe", method: "GET", target: "/admin/v1/calls?synthetic=maybe", want: 400},
		{name: "list calls with cache_hit=maybe", method: "GET", target: "/admin/v1/calls?cache_hit=maybe", want: 400},
		{name: "list calls with prompt_version=0", method: "GET", target: "/admin/v1/calls?prompt=summarize&prompt_version=0", want: 400},
		{name: "list calls, first page", method: "GET", target: "/admin/v1/calls?limit=1", want: 200},
		{name: "list calls, next page", method: "GET", target: "/admin/v1/calls?limit=1&cursor=after:1", want: 200},
		{name: "list calls with a foreign cursor", method: "GET", target: "/admin/v1/calls?cursor=bogus", want: 400},
		{name: "list calls with limit 0", method: "GET", target: "/admin/v1/calls?limit=0", want: 400},
		{name: "list calls with limit 501", method: "GET", target: "/admin/v1/calls?limit=501", want: 400},
		{name: "list calls since yesterday", method: "GET", target: "/admin/v1/calls?since=yesterday", want: 400},
		{name: "list calls with status 600", method: "GET", target: "/admin/v1/calls?status=600", want: 400},
		{name: "list calls with has_feedback=maybe", method: "GET", target: "/admin/v1/calls?has_feedback=maybe", want: 400},
		{name: "list calls, store down", method: "GET", target: "/admin/v1/calls", want: 500,
			setup: func(f *oasFixture) { f.calls.fail = errors.New("database is locked") }},
		{name: "get call", method: "GET", target: "/admin/v1/calls/req_full", want: 200},
		{name: "get call without feedback", method: "GET", target: "/admin/v1/calls/req_minimal", want: 200},
		{name: "get unknown call", method: "GET", target: "/admin/v1/calls/req_nope", want: 404},
		{name: "list calls with negative feedback", method: "GET", target: "/admin/v1/calls?feedback=negative&since=2026-01-01T00:00:00Z", want: 200},
		{name: "list calls with helpful:false", method: "GET", target: "/admin/v1/calls?feedback=helpful:false&flag=refusal", want: 200},
		{name: "list calls with a bad feedback filter", method: "GET", target: "/admin/v1/calls?feedback=has%20space", want: 400},
		{name: "give feedback on a call", method: "POST", target: "/admin/v1/calls/req_full/feedback", want: 201,
			body: `{"id":"fb_review","name":"rating","value":2,"comment":"half wrong"}`},
		{name: "change feedback on a call", method: "POST", target: "/admin/v1/calls/req_full/feedback", want: 200,
			body: `{"id":"fb_toggle","value":false}`, setup: func(f *oasFixture) {
				if _, _, err := f.server.Feedback.SubmitAs(f.t.Context(), feedback.Submitter{AnyCall: true, Source: feedback.SourceReviewer},
					feedback.Input{ID: "fb_toggle", RequestID: "req_full", Value: &feedback.Value{Kind: feedback.Boolean, Num: 1}}); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "feedback out of its score's range", method: "POST", target: "/admin/v1/calls/req_full/feedback", want: 422,
			body: `{"name":"rating","value":7}`},
		{name: "feedback on an unknown call", method: "POST", target: "/admin/v1/calls/req_nope/feedback", want: 404,
			body: `{"value":true}`},
		{name: "list page feedback", method: "GET", target: "/admin/v1/page-feedback?page=/portal/services/orders-api&limit=10", want: 200},
		{name: "list page feedback, limit 0", method: "GET", target: "/admin/v1/page-feedback?limit=0", want: 400},
		{name: "create publishable key", method: "POST", target: "/admin/v1/consumers/web-shop/publishable-keys", want: 201,
			body: `{"name":"shop-widget","origins":["https://shop.example.com","http://localhost:8080"]}`},
		{name: "create publishable key with a bad origin", method: "POST", target: "/admin/v1/consumers/web-shop/publishable-keys", want: 400,
			body: `{"origins":["https://shop.example.com/path"]}`},
		{name: "create publishable key for an unknown consumer", method: "POST", target: "/admin/v1/consumers/nope/publishable-keys", want: 404},
		{name: "list publishable keys", method: "GET", target: "/admin/v1/consumers/web-shop/publishable-keys", want: 200},
		{name: "revoke publishable key", method: "DELETE", target: "/admin/v1/consumers/web-shop/publishable-keys/pk_id_fixture", want: 204},
		{name: "revoke another consumer's publishable key", method: "DELETE", target: "/admin/v1/consumers/web-shop/publishable-keys/pk_id_nope", want: 404},

		{name: "list alerts", method: "GET", target: "/admin/v1/alerts", want: 200},
		{name: "list probes", method: "GET", target: "/admin/v1/probes", want: 200},
		{name: "list incidents", method: "GET", target: "/admin/v1/incidents", want: 200},
		{name: "list incidents with every filter", method: "GET", want: 200,
			target: "/admin/v1/incidents?state=open&service=&model=gpt-4o-mini&kind=failure&sort=count&limit=10"},
		{name: "list incidents in a bad state", method: "GET", target: "/admin/v1/incidents?state=closed", want: 400},
		{name: "list incidents of a bad kind", method: "GET", target: "/admin/v1/incidents?kind=bug", want: 400},
		{name: "list incidents in a bad order", method: "GET", target: "/admin/v1/incidents?sort=random", want: 400},
		{name: "list incidents, limit 0", method: "GET", target: "/admin/v1/incidents?limit=0", want: 400},
		{name: "get an incident", method: "GET", target: "/admin/v1/incidents/inc_fixture", want: 200},
		{name: "get a resolved incident", method: "GET", target: "/admin/v1/incidents/inc_resolved", want: 200},
		{name: "get an unknown incident", method: "GET", target: "/admin/v1/incidents/inc_nope", want: 404},
		{name: "acknowledge an incident", method: "POST", target: "/admin/v1/incidents/inc_fixture/acknowledge", want: 200},
		{name: "acknowledge a resolved incident", method: "POST", target: "/admin/v1/incidents/inc_resolved/acknowledge", want: 409},
		{name: "resolve an incident with a note", method: "POST", target: "/admin/v1/incidents/inc_fixture/resolve", want: 200,
			body: `{"note":"provider fixed it"}`},
		{name: "resolve an unknown incident", method: "POST", target: "/admin/v1/incidents/inc_nope/resolve", want: 404},
		{name: "ignore an incident", method: "POST", target: "/admin/v1/incidents/inc_other/ignore", want: 200},
		{name: "reopen an incident", method: "POST", target: "/admin/v1/incidents/inc_resolved/reopen", want: 200},
		{name: "reopen an open incident", method: "POST", target: "/admin/v1/incidents/inc_fixture/reopen", want: 409},
		{name: "note an incident", method: "POST", target: "/admin/v1/incidents/inc_fixture/notes", want: 201,
			body: `{"text":"upstream status page says degraded"}`},
		{name: "note an incident without text", method: "POST", target: "/admin/v1/incidents/inc_fixture/notes", want: 400,
			body: `{"text":"  "}`},
		{name: "note an unknown incident", method: "POST", target: "/admin/v1/incidents/inc_nope/notes", want: 404,
			body: `{"text":"x"}`},
		{name: "status of the services", method: "GET", target: "/admin/v1/status", want: 200},
		{name: "list status incidents", method: "GET", target: "/admin/v1/status/incidents?limit=10", want: 200},
		{name: "list open status incidents", method: "GET", target: "/admin/v1/status/incidents?open=true", want: 200},
		{name: "list status incidents with open=maybe", method: "GET", target: "/admin/v1/status/incidents?open=maybe", want: 400},
		{name: "open a status incident", method: "POST", target: "/admin/v1/status/incidents", want: 201,
			body: `{"title":"Errors on orders","services":["orders-api"],"impact":"outage","message":"We are looking into it."}`},
		{name: "open a status incident on an unknown service", method: "POST", target: "/admin/v1/status/incidents", want: 400,
			body: `{"title":"x","services":["nope"],"impact":"outage","message":"m"}`},
		{name: "get a status incident", method: "GET", target: "/admin/v1/status/incidents/sti_resolved", want: 200},
		{name: "get an unknown status incident", method: "GET", target: "/admin/v1/status/incidents/sti_nope", want: 404},
		{name: "update a status incident", method: "POST", target: "/admin/v1/status/incidents/sti_fixture/updates", want: 201,
			body: `{"status":"identified","message":"A bad deploy; rolling back."}`},
		{name: "update a resolved status incident", method: "POST", target: "/admin/v1/status/incidents/sti_resolved/updates", want: 409,
			body: `{"status":"monitoring","message":"again"}`},
		{name: "update a status incident to no status", method: "POST", target: "/admin/v1/status/incidents/sti_fixture/updates", want: 400,
			body: `{"status":"done","message":"x"}`},
		{name: "list status subscribers", method: "GET", target: "/admin/v1/status/subscribers", want: 200},
		{name: "add a status subscriber", method: "POST", target: "/admin/v1/status/subscribers", want: 201,
			body: `{"url":"https://hooks.example.com/new","secret":"env:HOOK_SECRET"}`},
		{name: "add a status subscriber without a secret", method: "POST", target: "/admin/v1/status/subscribers", want: 400,
			body: `{"url":"https://hooks.example.com/new"}`},
		{name: "add a status subscriber with a clear secret", method: "POST", target: "/admin/v1/status/subscribers", want: 400,
			body: `{"url":"https://hooks.example.com/new","secret":"hunter2"}`},
		{name: "remove a status subscriber", method: "DELETE", target: "/admin/v1/status/subscribers/sts_fixture", want: 204},
		{name: "remove an unknown status subscriber", method: "DELETE", target: "/admin/v1/status/subscribers/sts_nope", want: 404},
		{name: "list hypercare windows", method: "GET", target: "/admin/v1/hypercare", want: 200, setup: withHypercareReport},
		{name: "hypercare report", method: "GET", target: "/admin/v1/hypercare/mini-launch/report?at=2026-03-04T09:00:00Z", want: 200},
		{name: "hypercare report as markdown", method: "GET", target: "/admin/v1/hypercare/mini-launch/report?format=md", want: 200},
		{name: "hypercare report as html", method: "GET", target: "/admin/v1/hypercare/mini-launch/report?format=html&at=1772600000", want: 200},
		{name: "hypercare report as pdf", method: "GET", target: "/admin/v1/hypercare/mini-launch/report?format=pdf", want: 400},
		{name: "hypercare report at no time", method: "GET", target: "/admin/v1/hypercare/mini-launch/report?at=soon", want: 400},
		{name: "hypercare report of an unknown window", method: "GET", target: "/admin/v1/hypercare/nope/report", want: 404},
		{name: "stored hypercare reports", method: "GET", target: "/admin/v1/hypercare/mini-launch/reports?limit=5", want: 200, setup: withHypercareReport},
		{name: "stored hypercare reports, limit 0", method: "GET", target: "/admin/v1/hypercare/mini-launch/reports?limit=0", want: 400},
		{name: "list firing alerts", method: "GET", target: "/admin/v1/alerts?state=firing", want: 200},
		{name: "list alerts in a bad state", method: "GET", target: "/admin/v1/alerts?state=angry", want: 400},
		{name: "alert history", method: "GET", target: "/admin/v1/alerts/history?rule=errors-high&since=2026-01-01T00:00:00Z&until=1900000000&limit=10", want: 200},
		{name: "alert history with limit 0", method: "GET", target: "/admin/v1/alerts/history?limit=0", want: 400},
		{name: "list silences", method: "GET", target: "/admin/v1/silences?expired=true", want: 200},
		{name: "list silences with expired=maybe", method: "GET", target: "/admin/v1/silences?expired=maybe", want: 400},
		{name: "create silence", method: "POST", target: "/admin/v1/silences", want: 201,
			body: `{"matchers":[{"name":"rule","value":"errors-high"}],"duration":"2h","comment":"deploy"}`},
		{name: "create silence without comment", method: "POST", target: "/admin/v1/silences", want: 400,
			body: `{"matchers":[{"name":"rule","value":"errors-high"}],"duration":"2h"}`},
		{name: "create silence with a bad regex", method: "POST", target: "/admin/v1/silences", want: 400,
			body: `{"matchers":[{"name":"rule","value":"(","regex":true}],"duration":"2h","comment":"x"}`},
		{name: "delete silence", method: "DELETE", target: "/admin/v1/silences/sil_fixture", want: 204},
		{name: "delete unknown silence", method: "DELETE", target: "/admin/v1/silences/sil_nope", want: 404},

		{name: "analytics time series", method: "GET", target: "/admin/v1/analytics/timeseries?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z&metric=requests,latency_p95,ttft_p95&model=gpt-4o-mini", want: 200},
		{name: "analytics time series as csv", method: "GET", target: "/admin/v1/analytics/timeseries?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&format=csv", want: 200},
		{name: "analytics time series, unknown metric", method: "GET", target: "/admin/v1/analytics/timeseries?metric=vibes", want: 400},
		{name: "analytics time series, reversed range", method: "GET", target: "/admin/v1/analytics/timeseries?from=1900000000&to=1800000000", want: 400},
		{name: "analytics time series, too many points", method: "GET", target: "/admin/v1/analytics/timeseries?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&step=minute", want: 400},
		{name: "analytics time series, bad step", method: "GET", target: "/admin/v1/analytics/timeseries?step=week", want: 400},
		{name: "analytics time series, bad format", method: "GET", target: "/admin/v1/analytics/timeseries?format=xml", want: 400},
		{name: "analytics breakdown", method: "GET", target: "/admin/v1/analytics/breakdown?by=model&metric=requests,cost", want: 200},
		{name: "analytics breakdown as csv", method: "GET", target: "/admin/v1/analytics/breakdown?by=consumer&format=csv", want: 200},
		{name: "analytics breakdown without by", method: "GET", target: "/admin/v1/analytics/breakdown", want: 400},
		{name: "analytics breakdown by colour", method: "GET", target: "/admin/v1/analytics/breakdown?by=colour", want: 400},
		{name: "analytics top", method: "GET", target: "/admin/v1/analytics/top?by=route&metric=errors&limit=5", want: 200},
		{name: "analytics top without metric", method: "GET", target: "/admin/v1/analytics/top?by=route", want: 400},
		{name: "analytics top with limit 0", method: "GET", target: "/admin/v1/analytics/top?by=route&metric=errors&limit=0", want: 400},
		{name: "analytics compare", method: "GET", want: 200,
			target: "/admin/v1/analytics/compare?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&b_from=2026-01-02T00:00:00Z&b_to=2026-01-03T00:00:00Z&metric=error_rate,latency_p95"},
		{name: "analytics compare without window b", method: "GET", target: "/admin/v1/analytics/compare?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", want: 400},
		{name: "analytics rebuild", method: "POST", target: "/admin/v1/analytics/rebuild",
			body: `{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T12:00:00Z"}`, want: 200},
		{name: "analytics rebuild without from", method: "POST", target: "/admin/v1/analytics/rebuild", body: `{}`, want: 400},

		{name: "list consumers", method: "GET", target: "/admin/v1/consumers", want: 200},
		{name: "create consumer", method: "POST", target: "/admin/v1/consumers", want: 201,
			header: map[string]string{"X-Hypergate-Author": "alice"},
			body:   `{"name":"mobile-app","team":"apps","keys":[{"name":"default","key":"env:MOBILE_KEY"}],"models":["gpt-4o-mini"],"log_bodies":false,"body_max_bytes":0}`},
		{name: "create existing consumer", method: "POST", target: "/admin/v1/consumers", body: `{"name":"web-shop"}`, want: 409},
		{name: "create consumer with a bad name", method: "POST", target: "/admin/v1/consumers", body: `{"name":"Web Shop"}`, want: 422},
		{name: "create consumer with an unknown field", method: "POST", target: "/admin/v1/consumers", body: `{"name":"x","colour":"red"}`, want: 400},
		{name: "create consumer, too large", method: "POST", target: "/admin/v1/consumers", body: `{"name":"` + strings.Repeat("a", 8<<20) + `"}`, want: 413},
		{name: "get consumer", method: "GET", target: "/admin/v1/consumers/web-shop", want: 200},
		{name: "get unknown consumer", method: "GET", target: "/admin/v1/consumers/nope", want: 404},
		{name: "delete consumer", method: "DELETE", target: "/admin/v1/consumers/web-shop", want: 204},
		{name: "delete unknown consumer", method: "DELETE", target: "/admin/v1/consumers/nope", want: 404},

		{name: "create key", method: "POST", target: "/admin/v1/consumers/web-shop/keys", body: `{"name":"ci-2"}`, want: 201},
		{name: "create key without a body", method: "POST", target: "/admin/v1/consumers/web-shop/keys", want: 201},
		{name: "create key with a long name", method: "POST", target: "/admin/v1/consumers/web-shop/keys",
			body: `{"name":"` + strings.Repeat("k", 65) + `"}`, want: 400},
		{name: "create key for an unknown consumer", method: "POST", target: "/admin/v1/consumers/nope/keys", want: 404},
		{name: "list keys", method: "GET", target: "/admin/v1/keys", want: 200},
		{name: "list keys of a consumer", method: "GET", target: "/admin/v1/keys?consumer=web-shop", want: 200},
		{name: "list keys of a consumer without keys", method: "GET", target: "/admin/v1/keys?consumer=nope", want: 200},
		{name: "revoke key", method: "DELETE", target: "/admin/v1/keys/key_2", want: 204},
		{name: "revoke revoked key", method: "DELETE", target: "/admin/v1/keys/key_1", want: 204},
		{name: "revoke unknown key", method: "DELETE", target: "/admin/v1/keys/key_99", want: 404},

		{name: "get config", method: "GET", target: "/admin/v1/config", want: 200},
		{name: "get config as YAML", method: "GET", target: "/admin/v1/config?format=yaml", want: 200},
		{name: "get empty config", method: "GET", target: "/admin/v1/config", want: 200,
			setup: func(f *oasFixture) { f.configs.cfg = &config.Config{} }},
		{name: "get empty config as YAML", method: "GET", target: "/admin/v1/config?format=yaml", want: 200,
			setup: func(f *oasFixture) { f.configs.cfg = &config.Config{} }},
		{name: "put config as YAML", method: "PUT", target: "/admin/v1/config?message=back+to+basics", body: oasBaseConfig, want: 200,
			header: map[string]string{"Content-Type": "application/yaml", "X-Hypergate-Author": "alice"}},
		{name: "put config as JSON", method: "PUT", target: "/admin/v1/config", want: 200,
			header: map[string]string{"Content-Type": "application/json"},
			body:   `{"providers":[{"name":"p","type":"openai"}],"models":[{"name":"m","targets":[{"provider":"p"}]}],"consumers":null}`},
		{name: "put config, dry run", method: "PUT", target: "/admin/v1/config?dry_run=true", body: oasBaseConfig, want: 200},
		{name: "put unchanged config", method: "PUT", target: "/admin/v1/config", body: oasFullConfig, want: 200},
		{name: "put empty config", method: "PUT", target: "/admin/v1/config", want: 200},
		{name: "put invalid config", method: "PUT", target: "/admin/v1/config", body: "providers:\n  - name: p\n    type: nope\n", want: 422},
		{name: "put config with an unknown key", method: "PUT", target: "/admin/v1/config", body: "provider: []\n", want: 422},
		{name: "put config, too large", method: "PUT", target: "/admin/v1/config", body: big, want: 413},
		{name: "diff config", method: "POST", target: "/admin/v1/config/diff", body: oasBaseConfig, want: 200},
		{name: "diff invalid config", method: "POST", target: "/admin/v1/config/diff", body: "models: [{name: m}]\n", want: 422},
		{name: "diff config, too large", method: "POST", target: "/admin/v1/config/diff", body: big, want: 413},

		{name: "list revisions", method: "GET", target: "/admin/v1/config/revisions", want: 200},
		{name: "list revisions before 2", method: "GET", target: "/admin/v1/config/revisions?limit=1&before=2", want: 200},
		{name: "list revisions with limit 0", method: "GET", target: "/admin/v1/config/revisions?limit=0", want: 400},
		{name: "list revisions before 0", method: "GET", target: "/admin/v1/config/revisions?before=0", want: 400},
		{name: "get revision", method: "GET", target: "/admin/v1/config/revisions/2", want: 200},
		{name: "get revision 0", method: "GET", target: "/admin/v1/config/revisions/0", want: 400},
		{name: "get unknown revision", method: "GET", target: "/admin/v1/config/revisions/99", want: 404},
		{name: "restore revision", method: "POST", target: "/admin/v1/config/revisions/1/restore", want: 200,
			header: map[string]string{"X-Hypergate-Author": "alice"}},
		{name: "restore revision in service", method: "POST", target: "/admin/v1/config/revisions/2/restore", want: 200},
		{name: "restore revision x", method: "POST", target: "/admin/v1/config/revisions/x/restore", want: 400},
		{name: "restore unknown revision", method: "POST", target: "/admin/v1/config/revisions/99/restore", want: 404},
		{name: "restore revision that no longer validates", method: "POST", target: "/admin/v1/config/revisions/1/restore", want: 422,
			setup: func(f *oasFixture) {
				f.configs.revs[0].Config = []byte(`{"providers":[{"name":"p","type":"retired-type"}]}`)
			}},

		{name: "openapi.json", method: "GET", target: "/admin/v1/openapi.json", want: 200, noToken: true},
		{name: "healthz", method: "GET", target: "/healthz", want: 200, noToken: true},
		{name: "readyz", method: "GET", target: "/readyz", want: 200, noToken: true},
		{name: "readyz, store down", method: "GET", target: "/readyz", want: 503, noToken: true,
			setup: func(f *oasFixture) { f.notReady = errors.New("store unreachable") }},
		{name: "metrics", method: "GET", target: "/metrics", want: 200, noToken: true},
		{name: "pprof index", method: "GET", target: "/debug/pprof/", want: 200},
		{name: "cpu profile", method: "GET", target: "/debug/pprof/profile?seconds=1", want: 200},
		{name: "execution trace", method: "GET", target: "/debug/pprof/trace?seconds=1", want: 200},
		{name: "symbols", method: "GET", target: "/debug/pprof/symbol", want: 200},
		{name: "pprof needs the token", method: "GET", target: "/debug/pprof/", want: 401, noToken: true},
		{name: "pprof is admin-only", method: "GET", target: "/debug/pprof/", want: 403,
			header: map[string]string{"Authorization": "Bearer " + oasViewerToken}},

		{name: "sign in", method: "POST", target: "/admin/v1/login", want: 200, noToken: true,
			body: `{"email":"Ana@Example.com","password":"` + oasPassword + `"}`},
		{name: "sign in with a wrong password", method: "POST", target: "/admin/v1/login", want: 401, noToken: true,
			body: `{"email":"ana@example.com","password":"wrong password!"}`},
		{name: "sign in as nobody", method: "POST", target: "/admin/v1/login", want: 401, noToken: true,
			body: `{"email":"nobody@example.com","password":"` + oasPassword + `"}`},
		{name: "sign in disabled", method: "POST", target: "/admin/v1/login", want: 401, noToken: true,
			body: `{"email":"app@example.com","password":"` + oasPassword + `"}`},
		{name: "sign in without a password", method: "POST", target: "/admin/v1/login", want: 400, noToken: true,
			body: `{"email":"ana@example.com"}`},
		{name: "sign in with a bad email", method: "POST", target: "/admin/v1/login", want: 400, noToken: true,
			body: `{"email":"ana","password":"x"}`},
		{name: "sign in, too large", method: "POST", target: "/admin/v1/login", want: 413, noToken: true,
			body: `{"email":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "sign in, throttled", method: "POST", target: "/admin/v1/login", want: 429, noToken: true,
			body: `{"email":"ana@example.com","password":"` + oasPassword + `"}`,
			setup: func(f *oasFixture) {
				f.server.init()
				for range 5 {
					f.server.AccountThrottle.Fail("ana@example.com")
				}
			}},
		{name: "sign out with a token", method: "POST", target: "/admin/v1/logout", want: 204},
		{name: "sign out with a session", method: "POST", target: "/admin/v1/logout", want: 204,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession},
		{name: "who am I, admin token", method: "GET", target: "/admin/v1/me", want: 200},
		{name: "who am I, API token", method: "GET", target: "/admin/v1/me", want: 200,
			header: map[string]string{"Authorization": "Bearer " + oasViewerToken}},
		{name: "who am I, session", method: "GET", target: "/admin/v1/me", want: 200,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession},
		{name: "who am I, revoked token", method: "GET", target: "/admin/v1/me", want: 401,
			header: map[string]string{"Authorization": "Bearer hgt-x"}},
		{name: "change my password", method: "POST", target: "/admin/v1/me/password", want: 204,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession,
			body: `{"current_password":"` + oasPassword + `","new_password":"a much longer new password"}`},
		{name: "change my password, wrong current", method: "POST", target: "/admin/v1/me/password", want: 403,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession,
			body: `{"current_password":"not it at all","new_password":"a much longer new password"}`},
		{name: "change my password, too short", method: "POST", target: "/admin/v1/me/password", want: 400,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession,
			body: `{"current_password":"` + oasPassword + `","new_password":"short"}`},
		{name: "change my password, throttled", method: "POST", target: "/admin/v1/me/password", want: 429,
			header: map[string]string{"Authorization": "Bearer " + oasSession},
			body:   `{"current_password":"` + oasPassword + `","new_password":"a much longer new password"}`,
			setup: func(f *oasFixture) {
				withSession(f)
				f.server.init()
				for range 5 {
					f.server.AccountThrottle.Fail("ana@example.com")
				}
			}},
		{name: "change my password, too large", method: "POST", target: "/admin/v1/me/password", want: 413,
			header: map[string]string{"Authorization": "Bearer " + oasSession}, setup: withSession,
			body: `{"new_password":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "change my password as a token", method: "POST", target: "/admin/v1/me/password", want: 400,
			body: `{"current_password":"x","new_password":"a much longer new password"}`},

		{name: "list users", method: "GET", target: "/admin/v1/users", want: 200},
		{name: "list a team's users", method: "GET", target: "/admin/v1/users?team=payments", want: 200},
		{name: "list users as a viewer", method: "GET", target: "/admin/v1/users", want: 403,
			header: map[string]string{"Authorization": "Bearer " + oasViewerToken}},
		{name: "create user", method: "POST", target: "/admin/v1/users", want: 201,
			body: `{"email":"Rita@Example.com","name":"Rita","role":"reviewer","team":"payments","password":"` + oasPassword + `"}`},
		{name: "create consumer user", method: "POST", target: "/admin/v1/users", want: 201,
			body: `{"email":"shop@example.com","role":"consumer","consumer":"web-shop","disabled":false,"password":"` + oasPassword + `"}`},
		{name: "create user with a taken email", method: "POST", target: "/admin/v1/users", want: 409,
			body: `{"email":"ana@example.com","role":"viewer","password":"` + oasPassword + `"}`},
		{name: "create user with a short password", method: "POST", target: "/admin/v1/users", want: 400,
			body: `{"email":"x@example.com","role":"viewer","password":"short"}`},
		{name: "create team_admin without a team", method: "POST", target: "/admin/v1/users", want: 400,
			body: `{"email":"x@example.com","role":"team_admin","password":"` + oasPassword + `"}`},
		{name: "create user in an unknown team", method: "POST", target: "/admin/v1/users", want: 400,
			body: `{"email":"x@example.com","role":"viewer","team":"nope","password":"` + oasPassword + `"}`},
		{name: "create user, too large", method: "POST", target: "/admin/v1/users", want: 413,
			body: `{"email":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "get user", method: "GET", target: "/admin/v1/users/usr_app", want: 200},
		{name: "get user by email", method: "GET", target: "/admin/v1/users/dev@example.com", want: 200},
		{name: "get user by a bad email", method: "GET", target: "/admin/v1/users/a@b@c", want: 400},
		{name: "get unknown user", method: "GET", target: "/admin/v1/users/usr_nope", want: 404},
		{name: "update user", method: "PUT", target: "/admin/v1/users/usr_dev", want: 200,
			body: `{"name":"Devi","role":"team_admin","team":"payments","disabled":true,"password":"another long password"}`},
		{name: "update user, nothing", method: "PUT", target: "/admin/v1/users/usr_dev", want: 200, body: `{}`},
		{name: "update user to a taken email", method: "PUT", target: "/admin/v1/users/usr_dev", want: 409,
			body: `{"email":"ana@example.com"}`},
		{name: "update user with a bad role", method: "PUT", target: "/admin/v1/users/usr_dev", want: 400,
			body: `{"role":"owner"}`},
		{name: "update unknown user", method: "PUT", target: "/admin/v1/users/usr_nope", want: 404, body: `{}`},
		{name: "update user, too large", method: "PUT", target: "/admin/v1/users/usr_dev", want: 413,
			body: `{"name":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "delete user", method: "DELETE", target: "/admin/v1/users/usr_dev", want: 204},
		{name: "delete user by a bad email", method: "DELETE", target: "/admin/v1/users/@", want: 400},
		{name: "delete unknown user", method: "DELETE", target: "/admin/v1/users/usr_nope", want: 404},

		{name: "list tokens", method: "GET", target: "/admin/v1/tokens", want: 200},
		{name: "create token", method: "POST", target: "/admin/v1/tokens", want: 201,
			body: `{"name":"deploy","role":"developer","team":"payments","expires_in":"90d"}`},
		{name: "create token expiring at a time", method: "POST", target: "/admin/v1/tokens", want: 201,
			body: `{"name":"shop-reader","role":"consumer","consumer":"web-shop","expires_at":"2099-01-01T00:00:00Z"}`},
		{name: "create token without a role", method: "POST", target: "/admin/v1/tokens", want: 400, body: `{"name":"x"}`},
		{name: "create token expired", method: "POST", target: "/admin/v1/tokens", want: 400,
			body: `{"name":"x","role":"viewer","expires_at":"2001-01-01T00:00:00Z"}`},
		{name: "create token, too large", method: "POST", target: "/admin/v1/tokens", want: 413,
			body: `{"name":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "revoke token", method: "DELETE", target: "/admin/v1/tokens/tok_viewer", want: 204},
		{name: "revoke unknown token", method: "DELETE", target: "/admin/v1/tokens/tok_nope", want: 404},

		{name: "list teams", method: "GET", target: "/admin/v1/teams", want: 200},
		{name: "create team", method: "POST", target: "/admin/v1/teams", want: 201,
			body: `{"name":"search","description":"Search and ranking"}`},
		{name: "create existing team", method: "POST", target: "/admin/v1/teams", want: 409, body: `{"name":"apps"}`},
		{name: "create team with a bad name", method: "POST", target: "/admin/v1/teams", want: 422, body: `{"name":"Bad Name"}`},
		{name: "create team with an unknown field", method: "POST", target: "/admin/v1/teams", want: 400, body: `{"name":"x","owner":"y"}`},
		{name: "create team, too large", method: "POST", target: "/admin/v1/teams", want: 413,
			body: `{"name":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "get team", method: "GET", target: "/admin/v1/teams/payments", want: 200},
		{name: "get unknown team", method: "GET", target: "/admin/v1/teams/nope", want: 404},
		{name: "update team", method: "PUT", target: "/admin/v1/teams/apps", want: 200, body: `{"description":"Mobile and web apps"}`},
		{name: "rename team", method: "PUT", target: "/admin/v1/teams/apps", want: 400, body: `{"name":"applications"}`},
		{name: "update unknown team", method: "PUT", target: "/admin/v1/teams/nope", want: 404, body: `{}`},
		{name: "update team, too large", method: "PUT", target: "/admin/v1/teams/apps", want: 413,
			body: `{"description":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "update team, invalid", method: "PUT", target: "/admin/v1/teams/apps", want: 422, body: `{}`,
			setup: func(f *oasFixture) {
				// A consumer of an undeclared team slipped in: the
				// whole configuration no longer validates.
				f.configs.cfg.Consumers = append(f.configs.cfg.Consumers, config.Consumer{Name: "stray", Team: "gone"})
			}},
		{name: "delete team", method: "DELETE", target: "/admin/v1/teams/apps", want: 204},
		{name: "delete team that owns consumers", method: "DELETE", target: "/admin/v1/teams/payments", want: 409},
		{name: "delete unknown team", method: "DELETE", target: "/admin/v1/teams/nope", want: 404},
		{name: "delete team, invalid", method: "DELETE", target: "/admin/v1/teams/apps", want: 422,
			setup: func(f *oasFixture) {
				f.configs.cfg.Consumers = append(f.configs.cfg.Consumers, config.Consumer{Name: "stray", Team: "gone"})
			}},
		{name: "list members", method: "GET", target: "/admin/v1/teams/payments/members", want: 200},
		{name: "list members of an unknown team", method: "GET", target: "/admin/v1/teams/nope/members", want: 404},
		{name: "add member", method: "POST", target: "/admin/v1/teams/payments/members", want: 201,
			body: `{"user":"new@example.com","role":"viewer"}`},
		{name: "change a member's role", method: "POST", target: "/admin/v1/teams/payments/members", want: 200,
			body: `{"user":"usr_dev","role":"reviewer"}`},
		{name: "add a global user", method: "POST", target: "/admin/v1/teams/payments/members", want: 409,
			body: `{"user":"ana@example.com","role":"viewer"}`},
		{name: "add member with a bad role", method: "POST", target: "/admin/v1/teams/payments/members", want: 400,
			body: `{"user":"new@example.com","role":"admin"}`},
		{name: "add unknown member", method: "POST", target: "/admin/v1/teams/payments/members", want: 404,
			body: `{"user":"usr_nope","role":"viewer"}`},
		{name: "add member, too large", method: "POST", target: "/admin/v1/teams/payments/members", want: 413,
			body: `{"user":"` + strings.Repeat("a", 8<<20) + `"}`},
		{name: "remove member", method: "DELETE", target: "/admin/v1/teams/payments/members/dev@example.com", want: 204},
		{name: "remove a non-member", method: "DELETE", target: "/admin/v1/teams/payments/members/usr_new", want: 404},
		{name: "remove member by a bad email", method: "DELETE", target: "/admin/v1/teams/payments/members/x@", want: 400},

		{name: "list audit entries", method: "GET", target: "/admin/v1/audit", want: 200},
		{name: "list audit entries with every filter", method: "GET", want: 200,
			target: "/admin/v1/audit?actor=user:ana@example.com&action=consumer.&target=consumer:web-shop&team=payments&since=2026-01-01T00:00:00Z&until=1900000000&limit=1"},
		{name: "list audit entries with a foreign cursor", method: "GET", target: "/admin/v1/audit?cursor=@@", want: 400},
		{name: "list audit entries with limit 0", method: "GET", target: "/admin/v1/audit?limit=0", want: 400},
		{name: "list audit entries since when", method: "GET", target: "/admin/v1/audit?since=when", want: 400},
		{name: "list audit entries as a viewer", method: "GET", target: "/admin/v1/audit", want: 403,
			header: map[string]string{"Authorization": "Bearer " + oasViewerToken}},
	}
	tests = append(tests, catalogCases()...) // catalog_test.go
	tests = append(tests, releaseCases()...) // services_test.go
	tests = append(tests, reviewCases()...)  // review_test.go

	exercised := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOASFixture(t)
			f.t = t
			if tt.setup != nil {
				tt.setup(f)
			}
			target := tt.target
			if tt.targetOf != nil {
				target = tt.targetOf(f)
			}
			req := httptest.NewRequest(tt.method, target, strings.NewReader(tt.body))
			if !tt.noToken {
				req.Header.Set("Authorization", "Bearer "+oasToken)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			f.server.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d; body: %.500s", rec.Code, tt.want, rec.Body)
			}
			op, ok := d.find(t, tt.method, req.URL.Path)
			if !ok {
				t.Fatalf("%s %s is not documented", tt.method, req.URL.Path)
			}
			if rec.Code < 300 {
				exercised[op.key()] = true
			}
			d.checkAnswer(t, c, op, rec)
		})
	}
	for _, o := range d.operations(t) {
		if !exercised[o.key()] {
			t.Errorf("no scenario gets a 2xx answer from %s", o.key())
		}
	}
}

// checkAnswer holds one answer to what the document says of its operation.
func (d oasDoc) checkAnswer(t *testing.T, c *jsonschema.Compiler, op oasOperation, rec *httptest.ResponseRecorder) {
	t.Helper()
	status := strconv.Itoa(rec.Code)
	responses := op.op["responses"].(map[string]any)
	raw, ok := responses[status].(map[string]any)
	if !ok {
		t.Fatalf("%s answered %s, which is not documented", op.key(), status)
	}
	loc := "#/paths/" + escapePointer(op.path) + "/" + strings.ToLower(op.method) + "/responses/" + status
	if ref, ok := raw["$ref"].(string); ok {
		loc = ref
	}
	resp := d.deref(t, raw)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if rec.Body.Len() != 0 {
			t.Fatalf("%s %s documents no body, got %q", op.key(), status, rec.Body)
		}
		return
	}
	mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", rec.Header().Get("Content-Type"), err)
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Fatalf("%s %s answered %s, which is not a documented media type", op.key(), status, mt)
	}
	var value any
	switch mt {
	case "application/json":
		value, err = jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
	case "application/yaml":
		var y any
		if err := yaml.Unmarshal(rec.Body.Bytes(), &y); err != nil {
			t.Fatalf("body is not YAML: %v", err)
		}
		b, err := json.Marshal(y)
		if err != nil {
			t.Fatal(err)
		}
		value, _ = jsonschema.UnmarshalJSON(bytes.NewReader(b))
		// The only documented header, X-Hypergate-Revision, comes with YAML.
		if h, ok := resp["headers"].(map[string]any); ok {
			for name := range h {
				if rec.Header().Get(name) == "" {
					t.Errorf("header %s is documented but absent", name)
				}
			}
		}
	default:
		return // text formats (metrics): nothing more to check than the media type
	}
	sch, err := c.Compile(oasBase + loc + "/content/" + escapePointer(mt) + "/schema")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(value); err != nil {
		t.Errorf("%s %s does not match its schema: %#v\nbody: %.2000s", op.key(), status, err, rec.Body)
	}
	var extra []string
	d.undocumented(t, media["schema"].(map[string]any), value, "", &extra)
	if len(extra) > 0 {
		t.Errorf("%s %s has fields the document does not declare: %v", op.key(), status, extra)
	}
}

// undocumented collects the members of objects in v that schema s does not
// declare, so that a field added to a Go type cannot go undocumented even
// though the schemas, like most answer schemas, allow additional members.
func (d oasDoc) undocumented(t *testing.T, s map[string]any, v any, at string, out *[]string) {
	t.Helper()
	s = d.deref(t, s)
	switch v := v.(type) {
	case map[string]any:
		// A member declared by any alternative of anyOf or oneOf counts.
		props, _ := d.objectShape(t, s)
		for _, alt := range append(asSlice(s["anyOf"]), asSlice(s["oneOf"])...) {
			more, _ := d.objectShape(t, alt.(map[string]any))
			for k, v := range more {
				props[k] = v
			}
		}
		var additional map[string]any
		switch a := s["additionalProperties"].(type) {
		case map[string]any:
			additional = a
		case bool:
			if a {
				return
			}
		}
		if len(props) == 0 && additional == nil {
			return // a free-form object, such as this document itself
		}
		for k, member := range v {
			switch p, ok := props[k]; {
			case ok:
				d.undocumented(t, p, member, at+"/"+k, out)
			case additional != nil:
				d.undocumented(t, additional, member, at+"/"+k, out)
			default:
				*out = append(*out, at+"/"+k)
			}
		}
	case []any:
		items, ok := s["items"].(map[string]any)
		if !ok {
			return
		}
		for i, e := range v {
			d.undocumented(t, items, e, at+"/"+strconv.Itoa(i), out)
		}
	}
}

// oasBase is the URL the document is known by to the schema compiler; no
// reference leaves it.
const oasBase = "mem:///openapi.json"

// compiler returns a JSON Schema 2020-12 compiler holding the whole
// document, so that schema locations and their local $refs resolve as they
// do for an OpenAPI tool. Formats (date-time, uri) are asserted.
func (d oasDoc) compiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPI))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(oasNoLoader{})
	if err := c.AddResource(oasBase, doc); err != nil {
		t.Fatal(err)
	}
	return c
}

type oasNoLoader struct{}

func (oasNoLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("external reference %s is not loaded", u)
}

// TestOpenAPISecurity checks the documented security against the handler:
// without a token (or with a wrong one) an operation that needs the token
// answers 401, and one documented with `security: []` does not.
func TestOpenAPISecurity(t *testing.T) {
	d := loadOASDoc(t)
	c := d.compiler(t)
	for _, o := range d.operations(t) {
		for _, authz := range []string{"", "Bearer wrong-token", "Basic " + oasToken} {
			t.Run(o.key()+" with "+strconv.Quote(authz), func(t *testing.T) {
				f := newOASFixture(t)
				path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(o.path, "1")
				req := httptest.NewRequest(o.method, path, nil)
				if authz != "" {
					req.Header.Set("Authorization", authz)
				}
				rec := httptest.NewRecorder()
				f.server.Handler().ServeHTTP(rec, req)
				switch {
				case o.security && rec.Code != http.StatusUnauthorized:
					t.Fatalf("status %d, want 401", rec.Code)
				case !o.security && rec.Code == http.StatusUnauthorized:
					t.Fatalf("status 401, but the document says no token is needed")
				}
				d.checkAnswer(t, c, o, rec)
			})
		}
	}
}

// TestOpenAPIUndocumentedRoutes checks what the document's description says
// of anything else under /admin/v1: a 404 error once authenticated.
func TestOpenAPIUndocumentedRoutes(t *testing.T) {
	d := loadOASDoc(t)
	c := d.compiler(t)
	sch, err := c.Compile(oasBase + "#/components/schemas/Error")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"PATCH /admin/v1/calls", "POST /admin/v1/calls/x", "GET /admin/v1/nothing", "PUT /admin/v1/keys"} {
		t.Run(target, func(t *testing.T) {
			method, path, _ := strings.Cut(target, " ")
			if _, ok := d.find(t, method, path); ok {
				t.Fatalf("%s is documented", target)
			}
			req := httptest.NewRequest(method, path, nil)
			req.Header.Set("Authorization", "Bearer "+oasToken)
			rec := httptest.NewRecorder()
			newOASFixture(t).server.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404", rec.Code)
			}
			v, err := jsonschema.UnmarshalJSON(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Error(err)
			}
		})
	}
}

// oasTemplate is a database file migrated once: every scenario's fixture
// starts from a copy, since running the migrations for each of several
// hundred scenarios was most of this package's test time.
var oasTemplate struct {
	once sync.Once
	path string
	err  error
}

// oasDB opens a fresh, migrated SQLite database for one fixture.
func oasDB(t *testing.T) *store.DB {
	t.Helper()
	oasTemplate.once.Do(func() {
		dir, err := os.MkdirTemp("", "hypergate-oas-")
		if err != nil {
			oasTemplate.err = err
			return
		}
		oasTemplate.path = filepath.Join(dir, "template.db")
		db, err := store.Open(context.Background(), "sqlite:"+oasTemplate.path)
		if err != nil {
			oasTemplate.err = err
			return
		}
		oasTemplate.err = db.Close() // checkpoints the WAL into the file
	})
	if oasTemplate.err != nil {
		t.Fatalf("migrating the template database: %v", oasTemplate.err)
	}
	b, err := os.ReadFile(oasTemplate.path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixture.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if oasTemplate.path != "" {
		os.RemoveAll(filepath.Dir(oasTemplate.path))
	}
	os.Exit(code)
}
