package cassandra

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"
)

// connOptions say how to reach a cluster.
type connOptions struct {
	Hosts          []string
	User, Password string
	TLS            *tls.Config
	Timeout        time.Duration
}

// connect opens a session to the cluster: token-aware by default, and able
// to send a query to one chosen node (onHost), which range reads and
// node-local system tables need.
func connect(o connOptions) (*gocql.Session, *hostPolicy, error) {
	c := gocql.NewCluster(o.Hosts...)
	c.Timeout = o.Timeout
	c.ConnectTimeout = 10 * time.Second
	c.WriteTimeout = o.Timeout
	c.NumConns = 2
	c.ProtoVersion = 4
	c.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 2}
	c.ReconnectInterval = 2 * time.Second
	c.Logger = quietLogger{}
	pol := newHostPolicy()
	c.PoolConfig.HostSelectionPolicy = pol
	if o.User != "" || o.Password != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: o.User, Password: o.Password}
	}
	if o.TLS != nil {
		c.SslOpts = &gocql.SslOptions{Config: o.TLS, EnableHostVerification: !o.TLS.InsecureSkipVerify}
	}
	s, err := c.CreateSession()
	if err != nil {
		return nil, nil, connectError(o.Hosts, err)
	}
	return s, pol, nil
}

// connectError names the hosts and says what to check.
func connectError(hosts []string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "authentication") || strings.Contains(msg, "Provided username") || strings.Contains(msg, "authenticator"):
		return fmt.Errorf("cassandra %s: authentication failed: %w (check the username and the password in %s or the password file)", strings.Join(hosts, ","), err, PasswordEnv)
	default:
		return fmt.Errorf("cassandra %s: cannot connect: %w (check --hosts, the CQL port and TLS settings)", strings.Join(hosts, ","), err)
	}
}

// quietLogger drops gocql's own log lines (reconnect chatter); what matters
// is returned as errors and recorded as warnings.
type quietLogger struct{}

func (quietLogger) Print(...interface{})          {}
func (quietLogger) Printf(string, ...interface{}) {}
func (quietLogger) Println(...interface{})        {}

// hostKey is the context key of a query's chosen node.
type hostKey struct{}

// onHost returns a context that sends a query to the node at addr only.
func onHost(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, hostKey{}, addr)
}

// hostPolicy is gocql's token-aware policy, plus: a query whose context
// names a node (onHost) goes to that node alone, and the policy keeps the
// nodes it has been told of, with their tokens and state, for the ring.
type hostPolicy struct {
	gocql.HostSelectionPolicy
	mu    sync.Mutex
	hosts map[string]*gocql.HostInfo // by address
	down  map[string]bool
}

func newHostPolicy() *hostPolicy {
	return &hostPolicy{
		HostSelectionPolicy: gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy()),
		hosts:               map[string]*gocql.HostInfo{},
		down:                map[string]bool{},
	}
}

// hostAddr is a node's address as ranges and messages name it.
func hostAddr(h *gocql.HostInfo) string { return h.ConnectAddress().String() }

func (p *hostPolicy) AddHost(h *gocql.HostInfo) {
	p.set(h, false)
	p.HostSelectionPolicy.AddHost(h)
}

func (p *hostPolicy) RemoveHost(h *gocql.HostInfo) {
	p.mu.Lock()
	delete(p.hosts, hostAddr(h))
	p.mu.Unlock()
	p.HostSelectionPolicy.RemoveHost(h)
}

func (p *hostPolicy) HostUp(h *gocql.HostInfo) {
	p.set(h, false)
	p.HostSelectionPolicy.HostUp(h)
}

func (p *hostPolicy) HostDown(h *gocql.HostInfo) {
	p.set(h, true)
	p.HostSelectionPolicy.HostDown(h)
}

func (p *hostPolicy) set(h *gocql.HostInfo, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hosts[hostAddr(h)] = h
	p.down[hostAddr(h)] = down
}

// Pick sends a query whose context names a node to that node, else asks
// the token-aware policy.
func (p *hostPolicy) Pick(q gocql.ExecutableQuery) gocql.NextHost {
	if qq, ok := q.(*gocql.Query); ok {
		if addr, ok := qq.Context().Value(hostKey{}).(string); ok {
			p.mu.Lock()
			h := p.hosts[addr]
			p.mu.Unlock()
			used := false
			return func() gocql.SelectedHost {
				if used || h == nil {
					return nil
				}
				used = true
				return picked{h}
			}
		}
	}
	return p.HostSelectionPolicy.Pick(q)
}

// picked is a chosen node.
type picked struct{ h *gocql.HostInfo }

func (s picked) Info() *gocql.HostInfo { return s.h }
func (s picked) Mark(error)            {}

// node is what the ring needs of a node.
type node struct {
	Addr       string
	DC, Rack   string
	Tokens     []string
	Down       bool
	HostID     string
	Partitions string
}

// nodes lists the nodes the driver knows, sorted by address.
func (p *hostPolicy) nodes() []node {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]node, 0, len(p.hosts))
	for addr, h := range p.hosts {
		out = append(out, node{Addr: addr, DC: h.DataCenter(), Rack: h.Rack(), Tokens: h.Tokens(),
			Down: p.down[addr] || !h.IsUp(), HostID: h.HostID(), Partitions: h.Partitioner()})
	}
	sort.Slice(out, func(i, j int) bool { return addrLess(out[i].Addr, out[j].Addr) })
	return out
}

// addrLess orders addresses numerically where they are IPs.
func addrLess(a, b string) bool {
	ia, ib := net.ParseIP(a), net.ParseIP(b)
	if ia != nil && ib != nil {
		return string(ia.To16()) < string(ib.To16())
	}
	return a < b
}

// isWriteTimeout says a write timed out on the server: it may or may not
// have been applied.
func isWriteTimeout(err error) bool {
	var wt *gocql.RequestErrWriteTimeout
	return errors.As(err, &wt)
}

// isUnavailable reports whether err says a node could not serve a request
// (down, timed out, overloaded), so another replica should be tried.
func isUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var rt *gocql.RequestErrReadTimeout
	var un *gocql.RequestErrUnavailable
	var rf *gocql.RequestErrReadFailure
	switch {
	case errors.As(err, &rt), errors.As(err, &un), errors.As(err, &rf):
		return true
	case errors.Is(err, gocql.ErrNoConnections), errors.Is(err, gocql.ErrConnectionClosed), errors.Is(err, gocql.ErrTimeoutNoResponse),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, gocql.ErrTooManyTimeouts), errors.Is(err, gocql.ErrNoStreams):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		code := re.Code()
		return code == gocql.ErrCodeOverloaded || code == gocql.ErrCodeBootstrapping || code == gocql.ErrCodeServer
	}
	return false
}
