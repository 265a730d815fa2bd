package backends_test

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stratabackup/strata/backends/backendtest"
)

// countingProxy forwards TCP connections to target and counts the bytes
// sent back to the client.
type countingProxy struct {
	ln   net.Listener
	down atomic.Int64
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go p.serve(target)
	return p
}

func (p *countingProxy) serve(target string) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(countingWriter{c, &p.down}, s); c.Close() }()
	}
}

// countingWriter counts bytes before writing them, so a client that has
// received bytes always finds them counted.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return c.w.Write(b)
}

// TestRangedGetFetchesOnlyTheRange reads 4 KiB of a 4 MiB object on S3
// through a byte-counting proxy: the response must be about 4 KiB, not the
// object.
func TestRangedGetFetchesOnlyTheRange(t *testing.T) {
	addr := backendtest.StartS3(t, "range-key", "range-secret", "bucket")
	proxy := startCountingProxy(t, addr)
	b := open(t, ":s3,provider=Rclone,endpoint='http://"+proxy.ln.Addr().String()+"',access_key_id=range-key,secret_access_key=range-secret:bucket/r")
	ctx := context.Background()
	if err := b.Put(ctx, "pack", make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	before := proxy.down.Load()
	rc, err := b.Get(ctx, "pack", 1<<20, 4096)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != 4096 {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	if got := proxy.down.Load() - before; got > 64<<10 {
		t.Errorf("a 4 KiB ranged get moved %d bytes from the server", got)
	}
}
