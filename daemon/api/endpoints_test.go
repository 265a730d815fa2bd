package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/config"
)

// TestEndpoints calls every endpoint, good and bad requests alike, and
// checks each response against the OpenAPI document.
func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	c := f.c
	var jobs []map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for len(jobs) == 0 || jobs[len(jobs)-1]["state"] != "succeeded" {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled backup did not succeed: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
		c.want(http.StatusOK, "GET", "/api/jobs?kind=backup", nil, &jobs)
	}
	var doc map[string]any
	c.want(http.StatusOK, "GET", "/api/openapi.json", nil, &doc)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: %v", doc["openapi"])
	}
	var stores []daemon.StoreInfo
	c.want(http.StatusOK, "GET", "/api/stores", nil, &stores)
	if len(stores) != 1 || stores[0].Versions != 1 || stores[0].SizeBytes <= 0 {
		t.Fatalf("stores %+v", stores)
	}
	body := c.want(http.StatusOK, "GET", "/api/clusters", nil, nil)
	if strings.Contains(string(body), "hunter2") || !strings.Contains(string(body), "$API_TEST_MONGODB_URI") {
		t.Fatalf("clusters must show the secret's reference, never its value: %s", body)
	}
	var objs []daemon.ObjectStatus
	c.want(http.StatusOK, "GET", "/api/objects", nil, &objs)
	if len(objs) != 1 || objs[0].Object != "files/d/t" || !objs[0].RPOMet || objs[0].Policy != "files" || objs[0].Versions != 1 {
		t.Fatalf("objects %+v", objs)
	}
	testVersionsAndStats(t, c)
	testPolicies(t, c)
	testJobs(t, f)
	var alerts []map[string]any
	c.want(http.StatusOK, "GET", "/api/alerts?class=info", nil, &alerts)
	if len(alerts) == 0 || alerts[len(alerts)-1]["message"] != "daemon started" {
		t.Fatalf("alerts %+v", alerts)
	}
	c.wantField("GET", "/api/alerts?class=loud", nil, "class")
	metrics := string(c.want(http.StatusOK, "GET", "/metrics", nil, nil))
	for _, m := range []string{`strata_object_versions{object="files/d/t",policy="files",store="main"}`, `strata_jobs{kind="backup",state="succeeded"}`, "strata_store_size_bytes", "strata_object_last_success_timestamp_seconds", "strata_job_duration_seconds_bucket", `strata_object_rpo_met{object="files/d/t",policy="files",store="main"} 1`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	resp, err := http.Get(c.base + "/api/nothing")
	if err != nil {
		t.Fatal(err)
	}
	var e apiError
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || e.Object != "/api/nothing" {
		t.Fatalf("unknown endpoint: %d %+v", resp.StatusCode, e)
	}
}

func testVersionsAndStats(t *testing.T, c *client) {
	var vs []map[string]any
	c.want(http.StatusOK, "GET", "/api/versions?object=files/d/t", nil, &vs)
	if len(vs) != 1 {
		t.Fatalf("versions %+v", vs)
	}
	c.want(http.StatusOK, "GET", "/api/versions?object=files&to=2000-01-01T00:00:00Z", nil, &vs)
	if len(vs) != 0 {
		t.Fatalf("versions before 2000: %+v", vs)
	}
	c.wantField("GET", "/api/versions?from=yesterday", nil, "from")
	c.want(http.StatusNotFound, "GET", "/api/versions?object=files/d/nope", nil, nil)
	c.want(http.StatusNotFound, "GET", "/api/versions?store=nope", nil, nil)
	var st daemon.Stats
	c.want(http.StatusOK, "GET", "/api/stats", nil, &st)
	if len(st.Timeline) != 1 || st.Bytes != 4005 || st.StoredBytes <= 0 || st.DedupRatio <= 0 || len(st.Tables) != 1 || len(st.RecentJobs) == 0 {
		t.Fatalf("stats %+v", st)
	}
	c.wantField("GET", "/api/stats?to=x", nil, "to")
}

func testPolicies(t *testing.T, c *client) {
	var ps []map[string]any
	c.want(http.StatusOK, "GET", "/api/policies", nil, &ps)
	if len(ps) != 1 || ps[0]["source"] != "config" || ps[0]["interval"] != "1h0m0s" {
		t.Fatalf("policies %+v", ps)
	}
	good := map[string]any{"name": "nightly", "cluster": "files", "cron": "0 3 * * *", "retention": map[string]any{"keep_daily": 7}}
	var p map[string]any
	c.want(http.StatusCreated, "POST", "/api/policies", good, &p)
	if p["source"] != "api" || p["store"] != "main" {
		t.Fatalf("created %+v", p)
	}
	c.want(http.StatusConflict, "POST", "/api/policies", good, nil)
	bad := []struct {
		body  any
		field string
	}{
		{map[string]any{"name": "x", "cluster": "files", "interval": "5x"}, "interval"},
		{map[string]any{"name": "x", "cluster": "nope", "interval": "1h"}, "cluster"},
		{map[string]any{"name": "x", "cluster": "files"}, "interval"},
		{map[string]any{"name": "x y", "cluster": "files", "interval": "1h"}, "name"},
		{map[string]any{"name": "x", "cluster": "files", "interval": "1h", "colour": "red"}, "colour"},
		{map[string]any{"name": "x", "cluster": "files", "interval": "1h", "objects": []string{"d/[x"}}, "objects[0]"},
		{map[string]any{"name": "x", "cluster": "files", "interval": "1h", "store": "nope"}, "store"},
		{map[string]any{"name": "x", "cluster": "files", "interval": 5}, "interval"},
	}
	for _, b := range bad {
		c.wantField("POST", "/api/policies", b.body, b.field)
	}
	c.want(http.StatusOK, "GET", "/api/policies/nightly", nil, &p)
	c.want(http.StatusNotFound, "GET", "/api/policies/nope", nil, nil)
	good["cron"] = "0 4 * * *"
	c.want(http.StatusOK, "PUT", "/api/policies/nightly", good, &p)
	if p["cron"] != "0 4 * * *" {
		t.Fatalf("updated %+v", p)
	}
	c.wantField("PUT", "/api/policies/other", good, "name")
	c.want(http.StatusNotFound, "PUT", "/api/policies/ghost", map[string]any{"name": "ghost", "cluster": "files", "interval": "1h"}, nil)
	c.want(http.StatusConflict, "PUT", "/api/policies/files", map[string]any{"name": "files", "cluster": "files", "interval": "2h"}, nil)
	c.want(http.StatusConflict, "DELETE", "/api/policies/files", nil, nil)
	c.want(http.StatusNoContent, "DELETE", "/api/policies/nightly", nil, nil)
	c.want(http.StatusNotFound, "DELETE", "/api/policies/nightly", nil, nil)
}

// testJobs starts a backup, a restore that must equal the version, a
// forget and a check, and checks bad job requests.
func testJobs(t *testing.T, f *fixture) {
	c := f.c
	if err := os.WriteFile(filepath.Join(f.data, "a.txt"), []byte("alpha, changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // versions are named by the second
	var j map[string]any
	c.want(http.StatusAccepted, "POST", "/api/jobs", map[string]any{"kind": "backup", "policy": "files"}, &j)
	if got := f.waitJob(t, j["id"].(string)); got["state"] != "succeeded" || len(got["versions"].([]any)) != 1 {
		t.Fatalf("backup job %+v", got)
	}
	target := filepath.Join(f.dir, "restored")
	c.want(http.StatusAccepted, "POST", "/api/jobs", map[string]any{"kind": "restore", "version": "files/d/t/latest", "target": target}, &j)
	if got := f.waitJob(t, j["id"].(string)); got["state"] != "succeeded" {
		t.Fatalf("restore job %+v", got)
	}
	for _, name := range []string{"a.txt", "sub/b.txt"} {
		want, _ := os.ReadFile(filepath.Join(f.data, name))
		got, err := os.ReadFile(filepath.Join(target, name))
		if err != nil || string(got) != string(want) {
			t.Fatalf("restored %s = %q, %v; want %q", name, got, err, want)
		}
	}
	c.want(http.StatusAccepted, "POST", "/api/jobs", map[string]any{"kind": "check"}, &j)
	if got := f.waitJob(t, j["id"].(string)); got["state"] != "succeeded" {
		t.Fatalf("check job %+v", got)
	}
	waitForget(t, f)
	c.want(http.StatusConflict, "POST", "/api/jobs/"+j["id"].(string)+"/cancel", nil, nil)
	bad := []struct {
		body  any
		field string
	}{
		{map[string]any{"kind": "dance"}, "kind"},
		{map[string]any{"kind": "backup", "policy": "nope"}, "policy"},
		{map[string]any{"kind": "backup", "cluster": "nope", "store": "main"}, "cluster"},
		{map[string]any{"kind": "restore", "version": "files/d", "target": target}, "version"},
		{map[string]any{"kind": "restore", "version": "files/d/t/latest"}, "target"},
		{map[string]any{"kind": "restore", "version": "files/d/t/latest", "target": "relative"}, "target"},
		{map[string]any{"kind": "restore", "version": "files/d/t/2026-01-01..latest", "target": target}, "version"},
		{map[string]any{"kind": "restore", "version": "files/d/t/latest", "to_cluster": "files"}, "to_cluster"},
		{map[string]any{"kind": "check", "store": "nope"}, "store"},
		{map[string]any{"kind": "forget"}, "policy"},
		{"[1, 2]", "body"},
	}
	for _, b := range bad {
		c.wantField("POST", "/api/jobs", b.body, b.field)
	}
	c.want(http.StatusNotFound, "GET", "/api/jobs/j404", nil, nil)
	c.want(http.StatusNotFound, "POST", "/api/jobs/j404/cancel", nil, nil)
	c.wantField("GET", "/api/jobs?state=sleeping", nil, "state")
	c.wantField("GET", "/api/jobs?limit=0", nil, "limit")
	var list []map[string]any
	c.want(http.StatusOK, "GET", "/api/jobs?limit=2", nil, &list)
	if len(list) != 2 {
		t.Fatalf("limit 2 gave %d jobs", len(list))
	}
}

// waitForget waits for the retention job the policy's backup queued:
// keep_last 1 leaves one version of two.
func waitForget(t *testing.T, f *fixture) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var js []map[string]any
		f.c.want(http.StatusOK, "GET", "/api/jobs?kind=forget&state=succeeded", nil, &js)
		if len(js) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retention jobs: %+v", js)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var vs []map[string]any
	f.c.want(http.StatusOK, "GET", "/api/versions?object=files/d/t", nil, &vs)
	if len(vs) != 1 {
		t.Fatalf("keep_last 1 left %d versions", len(vs))
	}
}

// TestTokenOffLoopback: off the loopback interface the API refuses to
// start without a token, and answers 401 without or with a wrong one.
func TestTokenOffLoopback(t *testing.T) {
	f := newFixture(t)
	if _, err := New(f.d, config.API{Listen: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "refusing to listen on 0.0.0.0:0 without a token") {
		t.Fatalf("started off loopback without a token: %v", err)
	}
	tokenFile := filepath.Join(f.dir, "token")
	os.WriteFile(tokenFile, []byte("s3cret-token-0123456789\n"), 0o600)
	s, err := New(f.d, config.API{Listen: "0.0.0.0:0", TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, s)
	c := newClient(t, srv)
	for _, tok := range []string{"", "wrong-token-0123456789"} {
		c.token = tok
		var e apiError
		c.want(http.StatusUnauthorized, "GET", "/api/stores", nil, &e)
		c.want(http.StatusUnauthorized, "GET", "/metrics", nil, nil)
		if !strings.Contains(e.Error, "bearer token") {
			t.Fatalf("401 body %+v", e)
		}
	}
	c.token = "s3cret-token-0123456789"
	c.want(http.StatusOK, "GET", "/api/stores", nil, nil)
}
