package cassandra

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

func testNodes(dcRacks ...string) []node {
	rng := rand.New(rand.NewPCG(7, 9))
	var out []node
	for i, dr := range dcRacks {
		dc, rack, _ := strings.Cut(dr, "/")
		n := node{Addr: "10.0.0." + strconv.Itoa(i+1), DC: dc, Rack: rack}
		for range 8 {
			n.Tokens = append(n.Tokens, strconv.FormatInt(int64(rng.Uint64()), 10))
		}
		out = append(out, n)
	}
	return out
}

// TestRanges checks that the ranges cover the token space once, in
// order, each in its part, with RF distinct replicas.
func TestRanges(t *testing.T) {
	rg, err := newRing(testNodes("dc1/r1", "dc1/r1", "dc1/r2", "dc2/r1", "dc2/r1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, repl := range []replication{
		{"class": "SimpleStrategy", "replication_factor": "3"},
		{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "2", "dc2": "1"},
	} {
		for _, parts := range []int{1, 3, 16} {
			ranges := rg.ranges(repl, parts)
			bounds := partBounds(parts)
			prev := int64(minToken)
			for _, r := range ranges {
				if r.Start != prev || r.End <= r.Start {
					t.Fatalf("%v parts %d: range %s after %d", repl, parts, r, prev)
				}
				if partOf(r.End, bounds) != r.Part || r.Part > 0 && r.Start < bounds[r.Part-1] {
					t.Fatalf("range %s in part %d, bounds %v", r, r.Part, bounds)
				}
				if len(r.Replicas) != 3 || r.Replicas[0] == r.Replicas[1] || r.Replicas[1] == r.Replicas[2] || r.Replicas[0] == r.Replicas[2] {
					t.Fatalf("range %s replicas %v", r, r.Replicas)
				}
				prev = r.End
			}
			if prev != maxToken {
				t.Fatalf("ranges end at %d", prev)
			}
		}
	}
}

// TestNTSRacks checks NetworkTopologyStrategy's rack rule: two replicas
// in a datacenter with two racks are on different racks.
func TestNTSRacks(t *testing.T) {
	nodes := testNodes("dc1/r1", "dc1/r1", "dc1/r1", "dc1/r2")
	rg, _ := newRing(nodes)
	for i := range rg.tokens {
		reps := rg.replicas(i, replication{"class": "NetworkTopologyStrategy", "dc1": "2"})
		if len(reps) != 2 || nodes[reps[0]].Rack == nodes[reps[1]].Rack {
			t.Fatalf("token %d: replicas %v on one rack", i, reps)
		}
	}
}

func TestPartBounds(t *testing.T) {
	b := partBounds(4)
	want := []int64{-4611686018427387904, 0, 4611686018427387904, maxToken}
	for i := range want {
		if b[i] != want[i] {
			t.Fatalf("partBounds(4) = %v", b)
		}
	}
	if partOf(minToken+1, b) != 0 || partOf(0, b) != 1 || partOf(1, b) != 2 || partOf(maxToken, b) != 3 {
		t.Error("partOf")
	}
}

// TestSpanner writes a part twice, the second time with one line changed
// and one added: the unchanged lines become references to the first.
func TestSpanner(t *testing.T) {
	var lines []string
	for i := range 200 {
		lines = append(lines, "INSERT INTO ks.t JSON '{\"k\":"+strconv.Itoa(i)+"}' DEFAULT UNSET USING TIMESTAMP 1;\n")
	}
	first := "-- header 1\n" + strings.Join(lines, "")
	prev := sourcetest.NewWriter(nil)
	e := sources.Entry{Path: "data-0000.cql", Type: sources.TypeFile, Mode: 0o644, Size: int64(len(first))}
	if err := prev.Add(context.Background(), e, strings.NewReader(first)); err != nil {
		t.Fatal(err)
	}
	v1 := prev.Version()
	m, err := loadPrevLines(context.Background(), v1, e.Path)
	if err != nil || len(m) != 200 {
		t.Fatalf("prev lines %d, %v", len(m), err)
	}
	lines[100] = "UPDATE changed;\n"
	lines = append(lines, "INSERT new;\n")
	sp := &spanner{prev: m}
	sp.addData([]byte("-- header 2\n"))
	for _, l := range lines {
		sp.add([]byte(l))
	}
	sp.flush()
	w := sourcetest.NewWriter(v1)
	e.Size = -1
	err = w.AddSpans(context.Background(), e, func() (sources.Span, error) {
		if s, ok := sp.pop(); ok {
			return s, nil
		}
		return sources.Span{}, io.EOF
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "-- header 2\n" + strings.Join(lines, "")
	if got := w.Data(e.Path); !bytes.Equal(got, []byte(want)) {
		t.Fatalf("content differs")
	}
	if sp.Reused != 199 || sp.NewRows != 2 || w.NewBytes() > 100 {
		t.Errorf("reused %d, new %d, new bytes %d", sp.Reused, sp.NewRows, w.NewBytes())
	}
}

// TestSpannerLendsBuffersUntilNextPop adds lines between pops, as a
// part's next function does, and checks that a popped span's bytes stay
// as they were until the next pop (when AddSpans allows their reuse),
// that the spans add up to the lines, and that the buffers are reused
// rather than grown afresh for each span.
func TestSpannerLendsBuffersUntilNextPop(t *testing.T) {
	sp := &spanner{}
	var want, got []byte
	var lent, saved []byte
	for i := range 5000 {
		l := []byte(fmt.Sprintf("INSERT INTO ks.t JSON '{\"k\":%d,\"v\":\"%s\"}';\n", i, strings.Repeat("x", i%300)))
		want = append(want, l...)
		sp.add(l)
		if lent != nil && !bytes.Equal(lent, saved) {
			t.Fatalf("line %d: a lent span's bytes changed before the next pop", i)
		}
		if i%7 == 0 {
			lent = nil // a pop frees what the previous one lent
			if s, ok := sp.pop(); ok {
				got = append(got, s.Data...)
				lent, saved = s.Data, bytes.Clone(s.Data)
			}
		}
	}
	sp.flush()
	for {
		s, ok := sp.pop()
		if !ok {
			break
		}
		got = append(got, s.Data...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("spans hold %d bytes, want the %d added", len(got), len(want))
	}
	line := []byte(strings.Repeat("y", 399) + "\n")
	allocs := testing.AllocsPerRun(50, func() {
		for range 200 { // 80 KB: one span
			sp.add(line)
		}
		for {
			if _, ok := sp.pop(); !ok {
				break
			}
		}
	})
	if allocs > 1 {
		t.Errorf("%.1f allocations per span, want at most 1 (the buffer is reused)", allocs)
	}
}

// TestRenamedKeepsEveryField guards table.renamed, which lists the
// fields it copies (the table cannot be copied whole: its derived lists
// are atomic): a field added to table and not to renamed fails here.
func TestRenamedKeepsEveryField(t *testing.T) {
	src := &table{Keyspace: "ks", Name: "t", Partition: []column{{Name: "p"}}, Clustering: []column{{Name: "c"}},
		Static: []column{{Name: "s"}}, Regular: []column{{Name: "r"}}, Counter: true, Types: map[string]userType{"u": {Name: "u"}}}
	_ = src.keys() // fill the derived lists, which renamed must not carry over
	got := src.renamed("ks2", "t2")
	if got.qname() != qualified("ks2", "t2") {
		t.Errorf("renamed qname %s", got.qname())
	}
	sv, gv := reflect.ValueOf(src).Elem(), reflect.ValueOf(got).Elem()
	for i := range sv.NumField() {
		name := sv.Type().Field(i).Name
		switch name {
		case "Keyspace", "Name", "derived":
			continue
		}
		if !reflect.DeepEqual(sv.Field(i).Interface(), gv.Field(i).Interface()) {
			t.Errorf("renamed dropped field %s", name)
		}
	}
}
