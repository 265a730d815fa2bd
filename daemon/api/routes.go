package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/joblog"
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.openapi)
	})
	m.HandleFunc("GET /api/stores", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.d.Stores(r.Context()))
	})
	m.HandleFunc("GET /api/clusters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.d.Clusters())
	})
	m.HandleFunc("GET /api/objects", s.objects)
	m.HandleFunc("GET /api/policies", s.listPolicies)
	m.HandleFunc("POST /api/policies", s.createPolicy)
	m.HandleFunc("GET /api/policies/{name}", s.getPolicy)
	m.HandleFunc("PUT /api/policies/{name}", s.updatePolicy)
	m.HandleFunc("DELETE /api/policies/{name}", s.deletePolicy)
	m.HandleFunc("GET /api/versions", s.versions)
	m.HandleFunc("GET /api/jobs", s.listJobs)
	m.HandleFunc("POST /api/jobs", s.startJob)
	m.HandleFunc("GET /api/jobs/{id}", s.getJob)
	m.HandleFunc("POST /api/jobs/{id}/cancel", s.cancelJob)
	m.HandleFunc("GET /api/alerts", s.alerts)
	m.HandleFunc("GET /api/stats", s.stats)
	m.Handle("GET /metrics", s.d.MetricsHandler())
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Error: "no such endpoint: " + r.Method + " " + r.URL.Path + " (see /api/openapi.json)", Object: r.URL.Path})
	})
}

func (s *Server) objects(w http.ResponseWriter, r *http.Request) {
	// A store that cannot be read is an entry with its error among the
	// other stores' objects, not a failure of the whole list.
	writeJSON(w, http.StatusOK, s.d.Objects(r.Context()))
}

// rangeQuery reads store, object, from and to.
type rangeQuery struct {
	store, object string
	from, to      time.Time
}

func (s *Server) readRange(w http.ResponseWriter, r *http.Request) (rangeQuery, bool) {
	q := r.URL.Query()
	rq := rangeQuery{store: q.Get("store"), object: strings.Trim(q.Get("object"), "/")}
	if rq.store == "" {
		rq.store = s.d.DefaultStore()
	}
	if _, ok := s.d.Config().Stores[rq.store]; !ok {
		writeError(w, http.StatusNotFound, apiError{Error: "store " + strconv.Quote(rq.store) + ": no such store", Field: "store", Object: rq.store})
		return rq, false
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &rq.from}, {"to", &rq.to}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				badField(w, f.name, "%q: want an RFC 3339 time, e.g. 2026-11-24T10:00:00Z", v)
				return rq, false
			}
			*f.dst = t
		}
	}
	return rq, true
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	rq, ok := s.readRange(w, r)
	if !ok {
		return
	}
	vs, err := s.d.Versions(r.Context(), rq.store, rq.object, rq.from, rq.to)
	if err != nil {
		fail(w, err, rq.object)
		return
	}
	if rq.object != "" && len(vs) == 0 && rq.from.IsZero() && rq.to.IsZero() {
		writeError(w, http.StatusNotFound, apiError{Error: "object " + rq.object + ": no versions in store " + rq.store, Object: rq.object})
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	rq, ok := s.readRange(w, r)
	if !ok {
		return
	}
	st, err := s.d.Stats(r.Context(), rq.store, rq.object, rq.from, rq.to)
	if err != nil {
		fail(w, err, rq.object)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, kind := q.Get("state"), q.Get("kind")
	if state != "" && !oneOf(state, "queued", "running", "succeeded", "failed", "cancelled") {
		badField(w, "state", "%q: want queued, running, succeeded, failed or cancelled", state)
		return
	}
	if kind != "" && !oneOf(kind, joblog.KindBackup, joblog.KindRestore, joblog.KindForget, joblog.KindCheck) {
		badField(w, "kind", "%q: want backup, restore, forget or check", kind)
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			badField(w, "limit", "%q: want a whole number above 0", v)
			return
		}
		limit = n
	}
	jobs, err := s.d.Jobs()
	if err != nil {
		fail(w, err, "")
		return
	}
	out := []joblog.Job{}
	for _, j := range jobs {
		if (state == "" || string(j.State) == state) && (kind == "" || j.Kind == kind) && (limit == 0 || len(out) < limit) {
			out = append(out, j)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

func (s *Server) startJob(w http.ResponseWriter, r *http.Request) {
	var req daemon.JobRequest
	if !decode(w, r, &req) {
		return
	}
	j, err := s.d.Submit(req, "api")
	if err != nil {
		fail(w, err, "")
		return
	}
	w.Header().Set("Location", "/api/jobs/"+j.ID)
	writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	j, err := s.d.Job(id)
	if err != nil {
		fail(w, err, id)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	j, err := s.d.Cancel(id)
	if err != nil {
		fail(w, err, id)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	class := r.URL.Query().Get("class")
	if class != "" && !oneOf(class, "critical", "error", "warning", "info") {
		badField(w, "class", "%q: want critical, error, warning or info", class)
		return
	}
	as, err := s.d.Alerts(class)
	if err != nil {
		fail(w, err, "")
		return
	}
	writeJSON(w, http.StatusOK, as)
}
