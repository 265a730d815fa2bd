package main

import (
	"context"
	"encoding/binary"
	"math"
	"net"
	"testing"
	"time"
)

// doc builds a BSON document from already-encoded elements.
func doc(elems ...[]byte) []byte {
	var body []byte
	for _, e := range elems {
		body = append(body, e...)
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)+1))
	return append(append(out, body...), 0)
}

func double(name string, v float64) []byte {
	b := append([]byte{0x01}, name+"\x00"...)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func int32Elem(name string, v int32) []byte {
	b := append([]byte{0x10}, name+"\x00"...)
	return binary.LittleEndian.AppendUint32(b, uint32(v))
}

func str(name, v string) []byte {
	b := append([]byte{0x02}, name+"\x00"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)+1))
	return append(append(b, v...), 0)
}

func TestOKField(t *testing.T) {
	tests := []struct {
		name  string
		doc   []byte
		want  float64
		found bool
	}{
		{"double ok after string", doc(str("errmsg", "x"), double("ok", 1)), 1, true},
		{"int32 ok", doc(int32Elem("ok", 1)), 1, true},
		{"not ok", doc(double("ok", 0), str("errmsg", "boom")), 0, true},
		{"no ok", doc(str("errmsg", "boom")), 0, false},
		{"truncated", doc(str("errmsg", "boom"))[:8], 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := okField(tt.doc)
			if got != tt.want || found != tt.found {
				t.Fatalf("okField = %v, %v; want %v, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

// TestPingRealServer serves FerretDB in-process on a free port and pings it.
func TestPingRealServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, options{listen: addr, sqliteDir: t.TempDir(), logFile: t.TempDir() + "/log", logLevel: "warn"})
	}()
	t.Cleanup(func() { cancel(); <-done })

	var last error
	for i := 0; i < 100; i++ {
		if last = ping(context.Background(), addr, time.Second); last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ping %s never succeeded: %v", addr, last)
}

func TestPingRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	if err := ping(context.Background(), addr, time.Second); err == nil {
		t.Fatalf("ping %s with nothing listening succeeded", addr)
	}
}
