package joblog

import (
	"errors"
	"testing"
	"time"
)

// TestSurvivesReopen writes jobs, alerts, policies and run times, closes
// the log as a crash would leave it, and finds them all on reopening,
// with ids still increasing.
func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := l.NextID("j")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if err := l.PutJob(Job{ID: id, Kind: KindBackup, State: Running, Created: at}); err != nil {
		t.Fatal(err)
	}
	if err := l.PutAlert(&Alert{Class: "error", Message: "boom"}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLastRun("p", at); err != nil {
		t.Fatal(err)
	}
	if err := l.PutPolicy("p", map[string]string{"name": "p"}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	l, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	jobs, err := l.Jobs()
	if err != nil || len(jobs) != 1 || jobs[0].State != Running || !jobs[0].Created.Equal(at) {
		t.Fatalf("jobs after reopen: %+v, %v", jobs, err)
	}
	as, err := l.Alerts()
	if err != nil || len(as) != 1 || as[0].Message != "boom" {
		t.Fatalf("alerts after reopen: %+v, %v", as, err)
	}
	last, err := l.LastRun("p")
	if err != nil || !last.Equal(at) {
		t.Fatalf("last run %s, %v", last, err)
	}
	if never, err := l.LastRun("q"); err != nil || !never.IsZero() {
		t.Fatalf("never-run policy: %s, %v", never, err)
	}
	next, _ := l.NextID("j")
	if next <= id {
		t.Fatalf("id %s after reopen is not after %s", next, id)
	}
	if _, err := l.Job("j99999999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
	ps, _ := l.Policies()
	if len(ps) != 1 {
		t.Fatalf("policies %s", ps)
	}
	if err := l.DeletePolicy("p"); err != nil {
		t.Fatal(err)
	}
	if err := l.DeletePolicy("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l2, err := Open(dir); err == nil {
		l2.Close()
		t.Fatal("a second daemon opened the same job log")
	}
}

func TestTrim(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 5 {
		id, _ := l.NextID("j")
		st := Succeeded
		if i == 0 {
			st = Running
		}
		l.PutJob(Job{ID: id, State: st})
		l.PutAlert(&Alert{Class: "info", Message: id})
	}
	if err := l.Trim(2, 3); err != nil {
		t.Fatal(err)
	}
	jobs, _ := l.Jobs()
	as, _ := l.Alerts()
	if len(jobs) != 3 || jobs[0].State != Running || len(as) != 3 || as[2].Message != jobs[2].ID {
		t.Fatalf("after trim: jobs %+v, alerts %+v", jobs, as)
	}
}
