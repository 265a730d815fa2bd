package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/engine"
)

// client calls the API and validates every request and response against
// the OpenAPI document.
type client struct {
	t      *testing.T
	base   string
	token  string
	router routers.Router
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	r, err := legacy.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, router: r}
}

// call sends a request and returns status and body after checking both
// against the document.
func (c *client) call(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
		if s, ok := body.(string); ok {
			raw = []byte(s)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	c.validate(method, path, raw, resp, out)
	return resp.StatusCode, out
}

// validate checks a response (status included) against the document.
func (c *client) validate(method, path string, reqBody []byte, resp *http.Response, body []byte) {
	c.t.Helper()
	vreq, _ := http.NewRequest(method, "http://localhost"+path, bytes.NewReader(reqBody))
	if reqBody != nil {
		vreq.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Fatalf("%s %s: not in the OpenAPI document: %v", method, path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
	if err != nil {
		c.t.Errorf("%s %s: response %d does not match the OpenAPI document: %v\n%s", method, path, resp.StatusCode, err, body)
	}
}

// want calls and checks the status; it decodes the body into v.
func (c *client) want(status int, method, path string, body, v any) []byte {
	c.t.Helper()
	got, out := c.call(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
	return out
}

// wantField checks a 400 that names field.
func (c *client) wantField(method, path string, body any, field string) {
	c.t.Helper()
	var e apiError
	c.want(http.StatusBadRequest, method, path, body, &e)
	if e.Field != field {
		c.t.Errorf("%s %s %v: error %+v names field %q, want %q", method, path, body, e, e.Field, field)
	}
}

type fixture struct {
	dir, data string
	d         *daemon.Daemon
	c         *client
}

const testYAML = `state_dir: %[1]s/state
stores:
  main: {location: %[1]s/store}
clusters:
  files:
    kind: posix
    options: {db: d, root: [t=%[1]s/data]}
  shop:
    kind: mongodb
    options:
      uri: {env: API_TEST_MONGODB_URI}
policies:
  - {name: files, cluster: files, interval: 1h, retention: {keep_last: 1}}
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("API_TEST_MONGODB_URI", "mongodb://user:hunter2-secret@127.0.0.1:1/")
	f := &fixture{dir: dir, data: filepath.Join(dir, "data")}
	for name, content := range map[string]string{"a.txt": "alpha", "sub/b.txt": strings.Repeat("beta", 1000)} {
		os.MkdirAll(filepath.Dir(filepath.Join(f.data, name)), 0o755)
		if err := os.WriteFile(filepath.Join(f.data, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := engine.New(engine.Options{Store: dir + "/store", CacheDir: dir + "/initcache"})
	if _, _, err := e.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Close()
	cfg, err := config.Parse("test.yaml", []byte(strings.ReplaceAll(testYAML, "%[1]s", dir)))
	if err != nil {
		t.Fatal(err)
	}
	f.d, err = daemon.New(cfg, daemon.Options{Tick: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.d.Run(ctx); close(done) }()
	s, err := New(f.d, cfg.API)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; f.d.Close() })
	f.c = newClient(t, srv.URL)
	return f
}

// waitJob polls a job until it ends.
func (f *fixture) waitJob(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var j map[string]any
		f.c.want(http.StatusOK, "GET", "/api/jobs/"+id, nil, &j)
		if s := j["state"].(string); s != "queued" && s != "running" {
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s did not end", id)
	return nil
}

func httptestServer(t *testing.T, s *Server) string {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}
