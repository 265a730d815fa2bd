package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRefuseCrossSite checks the CSRF and DNS-rebinding guards on a
// stub route: which Host, Origin and Content-Type pass, with and
// without a token.
func TestRefuseCrossSite(t *testing.T) {
	const token = "s3cret-token-0123456789"
	for _, tc := range []struct {
		name                 string
		token                bool
		method, host, origin string
		contentType, body    string
		want                 int
		wantIn               string // in the error
	}{
		{name: "loopback GET", method: "GET", host: "127.0.0.1:7878", want: 200},
		{name: "localhost GET", method: "GET", host: "localhost:7878", want: 200},
		{name: "localhost no port", method: "GET", host: "localhost", want: 200},
		{name: "ipv6 loopback", method: "GET", host: "[::1]:7878", want: 200},
		{name: "JSON POST", method: "POST", host: "127.0.0.1:7878", contentType: "application/json", body: "{}", want: 200},
		{name: "JSON POST with charset", method: "POST", host: "127.0.0.1:7878", contentType: "application/json; charset=utf-8", body: "{}", want: 200},
		{name: "POST without body", method: "POST", host: "127.0.0.1:7878", want: 200},
		{name: "POST body without type (Go client)", method: "POST", host: "127.0.0.1:7878", body: "{}", want: 200},
		{name: "same-origin page", method: "POST", host: "127.0.0.1:7878", origin: "http://127.0.0.1:7878", contentType: "application/json", body: "{}", want: 200},
		{name: "text/plain POST", method: "POST", host: "127.0.0.1:7878", contentType: "text/plain", body: "{}", want: 415, wantIn: `Content-Type "text/plain"`},
		{name: "form PUT", method: "PUT", host: "127.0.0.1:7878", contentType: "application/x-www-form-urlencoded", body: "a=b", want: 415, wantIn: "application/json"},
		{name: "multipart DELETE", method: "DELETE", host: "127.0.0.1:7878", contentType: "multipart/form-data; boundary=x", body: "--x--", want: 415, wantIn: "application/json"},
		{name: "cross-site origin", method: "POST", host: "127.0.0.1:7878", origin: "http://evil.example", contentType: "application/json", body: "{}", want: 403, wantIn: `Origin "http://evil.example"`},
		{name: "cross-site GET", method: "GET", host: "127.0.0.1:7878", origin: "http://evil.example", want: 403, wantIn: "cross-site"},
		{name: "sandboxed page", method: "POST", host: "127.0.0.1:7878", origin: "null", contentType: "application/json", body: "{}", want: 403, wantIn: "Origin"},
		{name: "other port", method: "GET", host: "127.0.0.1:7878", origin: "http://127.0.0.1:8080", want: 403, wantIn: "Origin"},
		{name: "rebinding", method: "POST", host: "attacker.example:17878", origin: "http://attacker.example:17878", contentType: "application/json", body: "{}", want: 403, wantIn: `Host "attacker.example:17878" is not a loopback name`},
		{name: "rebinding GET", method: "GET", host: "attacker.example:17878", want: 403, wantIn: "DNS rebinding"},
		{name: "LAN address without token", method: "GET", host: "192.168.1.5:7878", want: 403, wantIn: "loopback"},
		{name: "any host with token", token: true, method: "GET", host: "backup.example:7878", want: 200},
		{name: "own origin with token", token: true, method: "POST", host: "backup.example:7878", origin: "http://backup.example:7878", contentType: "application/json", body: "{}", want: 200},
		{name: "cross-site with token", token: true, method: "POST", host: "backup.example:7878", origin: "http://evil.example", contentType: "application/json", body: "{}", want: 403, wantIn: "Origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{mux: http.NewServeMux()}
			if tc.token {
				s.token = token
			}
			s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(tc.method, "http://"+tc.host+"/api/jobs", body)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.token {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.wantIn != "" {
				var e apiError
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e.Error, tc.wantIn) {
					t.Fatalf("error %q (%v), want it to contain %q", rec.Body, err, tc.wantIn)
				}
			}
		})
	}
}

// TestCrossSiteRestoreRefused replays the reviewer's request against a
// running daemon: a text/plain POST from another origin under a rebound
// Host is refused, and no job is queued.
func TestCrossSiteRestoreRefused(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("POST", f.c.base+"/api/jobs", strings.NewReader(`{"kind":"restore","version":"files/data/d/latest","target":"/tmp/x"}`))
	req.Host = "attacker.example:17878"
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site restore answered %d, want 403", resp.StatusCode)
	}
	var jobs []map[string]any
	f.c.want(http.StatusOK, "GET", "/api/jobs?kind=restore", nil, &jobs)
	if len(jobs) != 0 {
		t.Fatalf("a refused request queued jobs: %v", jobs)
	}
}
