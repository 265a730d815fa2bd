// Package webhook delivers alerts to HTTP endpoints as JSON POSTs, each
// hook from its own queue, retried with exponential backoff. Send never
// blocks: when a hook's queue is full (the endpoint is down for long) the
// alert is dropped for that hook and logged; the job log keeps it anyway.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/stratabackup/strata/daemon/config"
)

// queueLen is how many alerts wait per hook before new ones are dropped.
const queueLen = 1000

// Retry tuning: attempts per alert and the first backoff (doubled each
// time, capped at maxBackoff).
var (
	attempts     = 6
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// Sender delivers alerts to the configured hooks.
type Sender struct {
	log    *slog.Logger
	client *http.Client
	ctx    context.Context
	stop   context.CancelFunc

	mu    sync.Mutex
	hooks map[string]*hook // by URL
	wg    sync.WaitGroup
}

type hook struct {
	cfg   config.Webhook
	queue chan []byte
	done  chan struct{}
}

// New starts a sender for hooks.
func New(hooks []config.Webhook, log *slog.Logger) *Sender {
	ctx, stop := context.WithCancel(context.Background())
	s := &Sender{log: log, client: &http.Client{Timeout: 10 * time.Second}, ctx: ctx, stop: stop, hooks: map[string]*hook{}}
	s.SetHooks(hooks)
	return s
}

// SetHooks replaces the hooks (a config reload); hooks that stay keep
// their queues.
func (s *Sender) SetHooks(hooks []config.Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := map[string]bool{}
	for _, c := range hooks {
		keep[c.URL] = true
		if h, ok := s.hooks[c.URL]; ok {
			h.cfg = c
			continue
		}
		h := &hook{cfg: c, queue: make(chan []byte, queueLen), done: make(chan struct{})}
		s.hooks[c.URL] = h
		s.wg.Add(1)
		go s.deliver(h)
	}
	for raw, h := range s.hooks {
		if !keep[raw] {
			close(h.done)
			delete(s.hooks, raw)
		}
	}
}

// Send queues an alert (any JSON value) of class for every hook that
// wants it; it never blocks.
func (s *Sender) Send(class string, alert any) {
	body, err := json.Marshal(alert)
	if err != nil {
		s.log.Error("webhook: encode alert", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for raw, h := range s.hooks {
		if config.ClassRank(class) < config.ClassRank(h.cfg.MinClass) {
			continue
		}
		select {
		case h.queue <- body:
		default:
			s.log.Warn("webhook queue full; alert dropped for this hook (it is in the job log)", "url", config.RedactURL(raw))
		}
	}
}

// deliver posts a hook's alerts in order until the hook is removed or
// the sender closed.
func (s *Sender) deliver(h *hook) {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-h.done:
			return
		case body := <-h.queue:
			if err := s.post(h, body); err != nil {
				s.log.Warn("webhook: alert not delivered", "url", config.RedactURL(h.cfg.URL), "err", err)
			}
		}
	}
}

// post sends one alert, retrying with backoff on errors and 5xx/429.
func (s *Sender) post(h *hook, body []byte) error {
	wait := firstBackoff
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(wait):
			case <-s.ctx.Done():
				return s.ctx.Err()
			}
			wait = min(2*wait, maxBackoff)
		}
		last = s.postOnce(h.cfg.URL, body)
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("%d attempts: %w", attempts, last)
}

// postOnce sends one alert once. Its errors name the hook only by
// config.RedactURL: net/http's own errors quote the whole URL (path and
// query, where webhook tokens live), so only their cause is kept.
func (s *Sender) postOnce(rawURL string, body []byte) error {
	safe := config.RedactURL(rawURL)
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: bad URL", safe)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "strata-daemon")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", safe, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %s", safe, resp.Status)
	}
	return nil
}

// Close stops delivery; queued alerts not yet sent are dropped (they are
// in the job log).
func (s *Sender) Close() {
	s.stop()
	s.wg.Wait()
}
