package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVersionsNoMatch: a prefix that matches no version exits 1, locally
// and through --server (whose API answers 404), as the README says; a
// second argument is refused (exit 2), not ignored; no prefix on an empty
// store is an empty list, exit 0.
func TestVersionsNoMatch(t *testing.T) {
	store := t.TempDir() + "/store"
	if err := runCLI(t, "init", "--store", store, "--cache-dir", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"object nosuch: no versions in store main"}`))
	}))
	defer api.Close()
	cache := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"versions", "--store", store, "--cache-dir", cache, "nosuch"}, exitError, `"nosuch"`},
		{[]string{"--server", api.URL, "versions", "nosuch"}, exitError, "nosuch"},
		{[]string{"versions", "--store", store, "--cache-dir", cache, "demo", "dup"}, exitUsage, `"dup"`},
		{[]string{"--server", api.URL, "versions", "demo", "dup"}, exitUsage, `"dup"`},
		{[]string{"versions", "--store", store, "--cache-dir", cache}, 0, ""},
	} {
		err := runCLI(t, tc.args...)
		if codeOf(err) != tc.code || (tc.says != "" && !strings.Contains(err.Error(), tc.says)) {
			t.Errorf("strata %s: %v (exit %d), want exit %d naming %s", strings.Join(tc.args, " "), err, codeOf(err), tc.code, tc.says)
		}
	}
}
