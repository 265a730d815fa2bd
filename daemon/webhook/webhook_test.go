package webhook

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/daemon/config"
)

// TestRetriesAndFilters sends to a receiver that fails twice: the alert
// arrives on the third attempt, and one below the hook's class never does.
func TestRetriesAndFilters(t *testing.T) {
	firstBackoff = 10 * time.Millisecond
	var mu sync.Mutex
	calls := 0
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		got = append(got, m)
	}))
	defer srv.Close()
	s := New([]config.Webhook{{URL: srv.URL, MinClass: "warning"}}, slog.Default())
	defer s.Close()
	start := time.Now()
	s.Send("info", map[string]string{"class": "info", "message": "ignored"})
	s.Send("error", map[string]string{"class": "error", "message": "job failed"})
	if time.Since(start) > time.Second {
		t.Fatalf("Send blocked")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0]["message"] != "job failed" || calls != 3 {
		t.Fatalf("received %v after %d calls; want the error alert once, on the third call", got, calls)
	}
}
