package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestLogHidesURLSecrets checks that an undelivered alert is logged with
// the hook's scheme and host only: never its userinfo, path or query,
// where webhook URLs carry their secrets, whether the endpoint refused
// the connection or answered an error status.
func TestLogHidesURLSecrets(t *testing.T) {
	attempts, firstBackoff = 1, time.Millisecond
	defer func() { attempts, firstBackoff = 6, 500*time.Millisecond }()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer down.Close()
	const secrets = "user:SECRET@%s/services/T0/B0/SLACKSECRET?token=QSECRET"
	for name, tc := range map[string]struct{ url, host string }{
		"refused":    {"http://" + fmt.Sprintf(secrets, "127.0.0.1:1"), "http://127.0.0.1:1"},
		"500 status": {"http://" + fmt.Sprintf(secrets, strings.TrimPrefix(down.URL, "http://")), down.URL},
	} {
		t.Run(name, func(t *testing.T) {
			var buf syncBuffer
			s := New([]config.Webhook{{URL: tc.url, MinClass: "info"}}, slog.New(slog.NewTextHandler(&buf, nil)))
			s.Send("error", map[string]string{"message": "job failed"})
			waitLog := time.Now().Add(5 * time.Second)
			for time.Now().Before(waitLog) && !strings.Contains(buf.String(), "not delivered") {
				time.Sleep(10 * time.Millisecond)
			}
			s.Close()
			log := buf.String()
			if !strings.Contains(log, "not delivered") || !strings.Contains(log, "url="+tc.host) {
				t.Fatalf("log does not name the hook by %s: %s", tc.host, log)
			}
			for _, secret := range []string{"SECRET", "user", "services", "token"} {
				if strings.Contains(log, secret) {
					t.Errorf("log shows %q: %s", secret, log)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the sender's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
