package main

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strconv"
)

// kind is how a file's content is generated.
type kind uint8

const (
	kindText   kind = iota // JSON lines: compressible, like logs and exports
	kindRandom             // incompressible, like compressed or encrypted data
)

// stream returns the deterministic content stream of (seed, name, version).
func stream(seed uint64, name string, version int, k kind) io.Reader {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(version))
	h.Write(b[:])
	h.Write([]byte(name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	if k == kindRandom {
		return rand.NewChaCha8(key)
	}
	return &textReader{rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:16])))}
}

var words = []string{
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
	"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
	"yankee", "zulu", "order", "payment", "refund", "login", "logout", "checkout",
	"cart", "search", "view", "click", "error", "timeout", "retry", "shipped",
	"warehouse", "berlin", "paris", "tokyo", "lagos", "lima", "oslo", "quito",
}

var events = []string{"order.created", "order.paid", "order.shipped", "user.login", "user.logout", "cart.updated", "search.query", "payment.failed"}

// textReader yields JSON-lines records of a fictional shop's events.
type textReader struct {
	rng *rand.Rand
	id  int64
	buf []byte
}

func (t *textReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(t.buf) == 0 {
			t.buf = t.record(t.buf[:0])
		}
		c := copy(p[n:], t.buf)
		n += c
		t.buf = t.buf[c:]
	}
	return n, nil
}

func (t *textReader) word() string { return words[t.rng.IntN(len(words))] }

func (t *textReader) record(b []byte) []byte {
	t.id++
	r := t.rng
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, t.id, 10)
	b = append(b, `,"ts":"2026-11-`...)
	b = append2(b, 1+r.IntN(28))
	b = append(b, 'T')
	b = append2(b, r.IntN(24))
	b = append(b, ':')
	b = append2(b, r.IntN(60))
	b = append(b, ':')
	b = append2(b, r.IntN(60))
	b = append(b, `Z","user":"`...)
	b = append(b, t.word()...)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
	b = append(b, `","event":"`...)
	b = append(b, events[r.IntN(len(events))]...)
	b = append(b, `","amount":`...)
	b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
	b = append(b, '.')
	b = append2(b, r.IntN(100))
	b = append(b, `,"note":"`...)
	for i := range 3 + r.IntN(8) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.word()...)
	}
	return append(b, "\"}\n"...)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}
