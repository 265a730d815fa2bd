package joblog

import (
	"encoding/json"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job. Queued and running jobs found at start were
// interrupted by a crash: the daemon runs them again.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Final reports a state a job does not leave.
func (s State) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// The kinds of job.
const (
	KindBackup  = "backup"
	KindRestore = "restore"
	KindForget  = "forget"
	KindCheck   = "check"
)

// Job is one unit of work and its outcome.
type Job struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Policy is the policy a backup or forget runs for ("" when started
	// by hand without one).
	Policy  string   `json:"policy,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Store   string   `json:"store"`
	Objects []string `json:"objects,omitempty"`
	// Version is a restore's CLUSTER/DB/TABLE/<time|latest|T1..T2>.
	Version string `json:"version,omitempty"`
	// Target is a restore's directory; ToCluster the configured cluster
	// a restore loads into instead (its address is never recorded).
	Target    string `json:"target,omitempty"`
	ToCluster string `json:"to_cluster,omitempty"`
	// Path restores only this file or directory of the version.
	Path string `json:"path,omitempty"`
	// Reason says why the job exists: "schedule", "api", "retry".
	Reason   string    `json:"reason"`
	State    State     `json:"state"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	Progress Progress  `json:"progress"`
	// Versions are the versions the job made (backup) or used (restore).
	Versions []VersionRef `json:"versions"`
	Error    string       `json:"error,omitempty"`
	// Result is the kind's own account (check's damage, prune's bytes).
	Result json.RawMessage `json:"result,omitempty"`
}

// Progress is a running job's state, from the engine's events.
type Progress struct {
	Object     string  `json:"object,omitempty"`
	Bytes      int64   `json:"bytes"`
	ReadBytes  int64   `json:"read_bytes"`
	NewBytes   int64   `json:"new_bytes"`
	TotalBytes int64   `json:"total_bytes"`
	Items      int64   `json:"items"`
	Rate       float64 `json:"rate_bytes_per_second"`
	// ETASeconds is -1 when unknown.
	ETASeconds  float64 `json:"eta_seconds"`
	ObjectsDone int     `json:"objects_done"`
}

// VersionRef names a version.
type VersionRef struct {
	Object string    `json:"object"`
	Time   time.Time `json:"time"`
}

// PutJob writes a job (new or changed).
func (l *Log) PutJob(j Job) error { return l.put("j/"+j.ID, j) }

// Job reads one job.
func (l *Log) Job(id string) (Job, error) {
	var j Job
	err := l.get("j/"+id, &j)
	return j, err
}

// Jobs returns every job, oldest first.
func (l *Log) Jobs() ([]Job, error) {
	var out []Job
	err := l.scan("j/", func(_ string, v []byte) error {
		var j Job
		if err := json.Unmarshal(v, &j); err != nil {
			return err
		}
		out = append(out, j)
		return nil
	})
	return out, err
}

// Alert is something an admin should know, by class: critical (damaged
// data, a store that cannot be written), error (a failed job), warning (a
// missed RPO, a partial version, a dead node), info (a policy changed,
// the daemon started).
type Alert struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Class   string    `json:"class"`
	Message string    `json:"message"`
	Job     string    `json:"job,omitempty"`
	Object  string    `json:"object,omitempty"`
	Policy  string    `json:"policy,omitempty"`
}

// PutAlert records an alert; it gets an id and a time if it has none.
func (l *Log) PutAlert(a *Alert) error {
	if a.ID == "" {
		id, err := l.NextID("a")
		if err != nil {
			return err
		}
		a.ID = id
	}
	if a.Time.IsZero() {
		a.Time = time.Now().UTC()
	}
	return l.put("a/"+a.ID, a)
}

// Alerts returns every alert, oldest first.
func (l *Log) Alerts() ([]Alert, error) {
	var out []Alert
	err := l.scan("a/", func(_ string, v []byte) error {
		var a Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// Trim deletes the oldest finished jobs beyond keepJobs and the oldest
// alerts beyond keepAlerts, so the log does not grow without bound.
// Queued and running jobs are never deleted.
func (l *Log) Trim(keepJobs, keepAlerts int) error {
	jobs, err := l.Jobs()
	if err != nil {
		return err
	}
	final := 0
	for _, j := range jobs {
		if j.State.Final() {
			final++
		}
	}
	for _, j := range jobs {
		if final <= keepJobs {
			break
		}
		if j.State.Final() {
			if err := l.del("j/" + j.ID); err != nil {
				return err
			}
			final--
		}
	}
	alerts, err := l.Alerts()
	if err != nil {
		return err
	}
	for i := 0; i < len(alerts)-keepAlerts; i++ {
		if err := l.del("a/" + alerts[i].ID); err != nil {
			return err
		}
	}
	return nil
}
