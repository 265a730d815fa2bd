// Package api is the daemon's REST API: JSON over net/http, described by
// the OpenAPI 3 document embedded here and served at /api/openapi.json,
// plus Prometheus metrics at /metrics. It only translates HTTP to the
// daemon's methods and back; errors are JSON naming the field or object
// at fault. Bound to anything but the loopback interface it refuses to
// start without a bearer token (read from a file); TLS is optional.
package api

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/config"
)

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the API's OpenAPI 3 document as JSON.
func OpenAPI() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
}

// Server serves the API of one daemon.
type Server struct {
	d       *daemon.Daemon
	token   string
	openapi []byte
	mux     *http.ServeMux
}

// New builds the API. A token file is read now; listen off the loopback
// interface without one is refused.
func New(d *daemon.Daemon, cfg config.API) (*Server, error) {
	s := &Server{d: d, mux: http.NewServeMux()}
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("api token: %w", err)
		}
		s.token = strings.TrimSpace(string(b))
		if len(s.token) < 16 {
			return nil, fmt.Errorf("api token in %s: want at least 16 characters", cfg.TokenFile)
		}
	}
	if s.token == "" && !config.IsLoopback(cfg.Listen) {
		return nil, fmt.Errorf("refusing to listen on %s without a token: set api.token_file, or listen on 127.0.0.1", cfg.Listen)
	}
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	s.routes()
	return s, nil
}

// Handler returns the API's handler (with the token check).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if status, msg := s.refuseCrossSite(r); status != 0 {
		writeError(w, status, apiError{Error: msg})
		return
	}
	if s.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
			writeError(w, http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token (Authorization: Bearer TOKEN)"})
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// refuseCrossSite returns the status and reason to refuse a request a
// web page could have made the user's browser send (CSRF), or one that
// reached the loopback API under another name (DNS rebinding: a page
// of attacker.example whose name now resolves to 127.0.0.1 is, to the
// browser, same-origin). Without a token the loopback address is the
// only protection, so then:
//   - the Host must be a loopback one (127.0.0.1, ::1, localhost, any
//     port): a rebound name arrives with the attacker's Host;
//
// and always:
//   - an Origin header (browsers send one with every cross-origin
//     request but simple GETs, "null" from sandboxed pages) must be the
//     API's own origin;
//   - a body must be JSON by its Content-Type: a cross-site form or a
//     "simple" fetch can only send text/plain, form-urlencoded or
//     multipart bodies without a CORS preflight. A body without any
//     Content-Type (Go's http client sets none) is read as JSON: a
//     browser sends one only with an Origin, which the rule above
//     checks.
//
// It returns 0 for a request to serve.
func (s *Server) refuseCrossSite(r *http.Request) (int, string) {
	if s.token == "" && !loopbackHost(r.Host) {
		return http.StatusForbidden, fmt.Sprintf("Host %q is not a loopback name: without api.token_file the API answers only to 127.0.0.1, ::1 or localhost (refusing a possible DNS rebinding)", r.Host)
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, ownOrigin(r)) {
		return http.StatusForbidden, fmt.Sprintf("Origin %q is not this API's origin %s: cross-site requests from web pages are refused", o, ownOrigin(r))
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		ct := r.Header.Get("Content-Type")
		if ct == "" || (r.ContentLength == 0 && r.Body == http.NoBody) {
			return 0, ""
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: a request body must be application/json", ct)
		}
	}
	return 0, ""
}

// ownOrigin is the origin a page served by this API would have.
func ownOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// loopbackHost reports whether a Host header names the loopback
// interface: localhost or a loopback IP literal, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve listens on cfg.Listen until ctx ends; ready is told the address
// once listening.
func (s *Server) Serve(ctx context.Context, cfg config.API, ready func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if ready != nil {
		ready(ln.Addr().String())
	}
	if cfg.TLSCert != "" {
		err = srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// apiError is every error's body.
type apiError struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Object string `json:"object,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	writeJSON(w, status, e)
}

// fail maps a daemon error to its status: a bad field 400, unknown 404,
// conflict 409, anything else 500.
func fail(w http.ResponseWriter, err error, object string) {
	var fe *config.FieldError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: fe.Field})
	case errors.Is(err, daemon.ErrNotFound):
		writeError(w, http.StatusNotFound, apiError{Error: err.Error(), Object: object})
	case errors.Is(err, daemon.ErrConflict):
		writeError(w, http.StatusConflict, apiError{Error: err.Error(), Object: object})
	default:
		writeError(w, http.StatusInternalServerError, apiError{Error: err.Error()})
	}
}

// badField answers 400 naming field.
func badField(w http.ResponseWriter, field, format string, args ...any) {
	writeError(w, http.StatusBadRequest, apiError{Error: field + ": " + fmt.Sprintf(format, args...), Field: field})
}

// decode reads a JSON body strictly: unknown fields are named errors.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		badField(w, te.Field, "want a %s", te.Type)
	case errors.As(err, &te):
		badField(w, "body", "want a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		badField(w, field, "unknown field")
	default:
		badField(w, "body", "not a JSON object: %v", err)
	}
	return false
}
