package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"time"
)

// opMsg is the MongoDB wire protocol's OP_MSG opcode.
const opMsg = 2013

// ping sends {ping: 1, $db: "admin"} as an OP_MSG to addr and checks that
// the reply says ok: 1. It speaks the wire protocol by hand so readiness
// checks need no MongoDB driver.
func ping(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("ping %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(pingMessage()); err != nil {
		return fmt.Errorf("ping %s: send: %w", addr, err)
	}
	doc, err := readReply(conn)
	if err != nil {
		return fmt.Errorf("ping %s: %w", addr, err)
	}
	if ok, found := okField(doc); !found || ok != 1 {
		return fmt.Errorf("ping %s: reply is not ok: %q", addr, doc)
	}
	return nil
}

// pingMessage encodes the OP_MSG carrying {ping: 1, $db: "admin"}.
func pingMessage() []byte {
	var doc bytes.Buffer
	doc.Write([]byte{0x10}) // int32
	doc.WriteString("ping\x00")
	_ = binary.Write(&doc, binary.LittleEndian, int32(1))
	doc.Write([]byte{0x02}) // string
	doc.WriteString("$db\x00")
	_ = binary.Write(&doc, binary.LittleEndian, int32(len("admin")+1))
	doc.WriteString("admin\x00")
	doc.WriteByte(0)
	body := binary.LittleEndian.AppendUint32(nil, uint32(doc.Len()+4))
	body = append(body, doc.Bytes()...)

	msg := make([]byte, 0, 21+len(body))
	msg = binary.LittleEndian.AppendUint32(msg, uint32(16+4+1+len(body)))
	msg = binary.LittleEndian.AppendUint32(msg, 1) // requestID
	msg = binary.LittleEndian.AppendUint32(msg, 0) // responseTo
	msg = binary.LittleEndian.AppendUint32(msg, opMsg)
	msg = binary.LittleEndian.AppendUint32(msg, 0) // flagBits
	msg = append(msg, 0)                           // section kind 0: body
	return append(msg, body...)
}

// readReply reads one OP_MSG reply and returns its body document.
func readReply(r io.Reader) ([]byte, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read reply header: %w", err)
	}
	n := binary.LittleEndian.Uint32(hdr[0:4])
	if op := binary.LittleEndian.Uint32(hdr[12:16]); op != opMsg {
		return nil, fmt.Errorf("reply opcode %d, want %d", op, opMsg)
	}
	if n < 16+4+1+5 || n > 48<<20 {
		return nil, fmt.Errorf("reply length %d out of range", n)
	}
	rest := make([]byte, n-16)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if rest[4] != 0 {
		return nil, fmt.Errorf("reply section kind %d, want 0", rest[4])
	}
	return rest[5:], nil
}

// okField finds the top-level "ok" field of a BSON document, as FerretDB
// and MongoDB send it (a double, sometimes an int32).
func okField(doc []byte) (float64, bool) {
	i := 4
	for i < len(doc) && doc[i] != 0 {
		typ := doc[i]
		end := bytes.IndexByte(doc[i+1:], 0)
		if end < 0 {
			return 0, false
		}
		name := string(doc[i+1 : i+1+end])
		v := i + 2 + end
		size, ok := valueSize(typ, doc[v:])
		if !ok || v+size > len(doc) {
			return 0, false
		}
		if name == "ok" {
			return number(typ, doc[v:v+size])
		}
		i = v + size
	}
	return 0, false
}

// valueSize returns the encoded size of a BSON value of the given type.
func valueSize(typ byte, b []byte) (int, bool) {
	switch typ {
	case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
		return 8, true
	case 0x10: // int32
		return 4, true
	case 0x08: // bool
		return 1, true
	case 0x0A: // null
		return 0, true
	case 0x07: // objectId
		return 12, true
	case 0x02: // string
		if len(b) < 4 {
			return 0, false
		}
		return 4 + int(binary.LittleEndian.Uint32(b)), true
	case 0x03, 0x04: // document, array
		if len(b) < 4 {
			return 0, false
		}
		return int(binary.LittleEndian.Uint32(b)), true
	case 0x05: // binary
		if len(b) < 4 {
			return 0, false
		}
		return 5 + int(binary.LittleEndian.Uint32(b)), true
	}
	return 0, false
}

// number decodes a numeric BSON value.
func number(typ byte, b []byte) (float64, bool) {
	switch typ {
	case 0x01:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), true
	case 0x10:
		return float64(int32(binary.LittleEndian.Uint32(b))), true
	case 0x12:
		return float64(int64(binary.LittleEndian.Uint64(b))), true
	}
	return 0, false
}
