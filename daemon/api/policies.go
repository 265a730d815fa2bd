package api

import (
	"net/http"
	"time"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/config"
)

// policyJSON is a policy as the API reads and writes it: durations as
// text ("6h"), retention in forget's terms.
type policyJSON struct {
	Name      string        `json:"name"`
	Cluster   string        `json:"cluster"`
	Objects   []string      `json:"objects,omitempty"`
	Interval  string        `json:"interval,omitempty"`
	Cron      string        `json:"cron,omitempty"`
	Grace     string        `json:"grace,omitempty"`
	Retention retentionJSON `json:"retention"`
	Store     string        `json:"store,omitempty"`
	Source    string        `json:"source,omitempty"`
	Line      int           `json:"line,omitempty"`
}

type retentionJSON struct {
	KeepLast   int    `json:"keep_last,omitempty"`
	KeepHourly int    `json:"keep_hourly,omitempty"`
	KeepDaily  int    `json:"keep_daily,omitempty"`
	KeepWeekly int    `json:"keep_weekly,omitempty"`
	KeepWithin string `json:"keep_within,omitempty"`
}

func toJSON(p daemon.PolicyInfo) policyJSON {
	out := policyJSON{Name: p.Name, Cluster: p.Cluster, Objects: p.Objects, Cron: p.Cron, Store: p.Store, Source: p.Source, Line: p.Line}
	if p.Interval > 0 {
		out.Interval = time.Duration(p.Interval).String()
	}
	if p.Grace > 0 {
		out.Grace = time.Duration(p.Grace).String()
	}
	r := p.Retention
	out.Retention = retentionJSON{KeepLast: r.Last, KeepHourly: r.Hourly, KeepDaily: r.Daily, KeepWeekly: r.Weekly}
	if r.Within > 0 {
		out.Retention.KeepWithin = r.Within.String()
	}
	return out
}

// fromJSON converts and checks the durations and counts; the daemon
// checks the rest.
func fromJSON(in policyJSON) (config.Policy, error) {
	p := config.Policy{Name: in.Name, Cluster: in.Cluster, Objects: in.Objects, Cron: in.Cron, Store: in.Store}
	for _, d := range []struct {
		field, val string
		dst        *config.Duration
	}{{"interval", in.Interval, &p.Interval}, {"grace", in.Grace, &p.Grace}} {
		if d.val == "" {
			continue
		}
		v, err := config.ParseDuration(d.val)
		if err != nil {
			return p, &config.FieldError{Field: d.field, Msg: err.Error()}
		}
		*d.dst = config.Duration(v)
	}
	r := in.Retention
	for field, n := range map[string]int{"retention.keep_last": r.KeepLast, "retention.keep_hourly": r.KeepHourly, "retention.keep_daily": r.KeepDaily, "retention.keep_weekly": r.KeepWeekly} {
		if n < 0 {
			return p, &config.FieldError{Field: field, Msg: "want 0 or more"}
		}
	}
	p.Retention.Last, p.Retention.Hourly, p.Retention.Daily, p.Retention.Weekly = r.KeepLast, r.KeepHourly, r.KeepDaily, r.KeepWeekly
	if r.KeepWithin != "" {
		v, err := config.ParseDuration(r.KeepWithin)
		if err != nil {
			return p, &config.FieldError{Field: "retention.keep_within", Msg: err.Error()}
		}
		p.Retention.Within = v
	}
	return p, nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	out := []policyJSON{}
	for _, p := range s.d.Policies() {
		out = append(out, toJSON(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p, err := s.d.Policy(name)
	if err != nil {
		fail(w, err, name)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(p))
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) {
	s.putPolicy(w, r, "", true)
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) {
	s.putPolicy(w, r, r.PathValue("name"), false)
}

// putPolicy creates (name "") or replaces the named policy.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, name string, create bool) {
	var in policyJSON
	if !decode(w, r, &in) {
		return
	}
	if in.Source != "" || in.Line != 0 {
		badField(w, "source", "read-only")
		return
	}
	if !create && in.Name != name {
		badField(w, "name", "%q: the body's name must be the path's (%q)", in.Name, name)
		return
	}
	p, err := fromJSON(in)
	if err == nil {
		err = s.d.PutPolicy(p, create)
	}
	if err != nil {
		fail(w, err, in.Name)
		return
	}
	got, err := s.d.Policy(p.Name)
	if err != nil {
		fail(w, err, p.Name)
		return
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	writeJSON(w, status, toJSON(got))
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.d.DeletePolicy(name); err != nil {
		fail(w, err, name)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
