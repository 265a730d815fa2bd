package cassandra

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Murmur3's token space: keys hash to (minToken, maxToken].
const (
	minToken = math.MinInt64
	maxToken = math.MaxInt64
)

// tokenRange is the tokens (Start, End] with the nodes that hold them, in
// the order they are tried.
type tokenRange struct {
	Start, End int64
	Replicas   []string
	// Part is the data part the range belongs to.
	Part int
}

func (r tokenRange) String() string {
	return fmt.Sprintf("(%d,%d]", r.Start, r.End)
}

// ringToken is one token of the ring and its owner.
type ringToken struct {
	T    int64
	Node int // index into nodes
}

// ring is the cluster's token ring as the driver saw it.
type ring struct {
	nodes  []node
	tokens []ringToken // sorted
}

// newRing builds the ring of the nodes' tokens; it fails when no node
// has Murmur3 tokens.
func newRing(nodes []node) (*ring, error) {
	r := &ring{nodes: nodes}
	for i, n := range nodes {
		for _, s := range n.Tokens {
			t, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("node %s: token %q is not a Murmur3 token (only Murmur3Partitioner is supported)", n.Addr, s)
			}
			r.tokens = append(r.tokens, ringToken{T: t, Node: i})
		}
	}
	if len(r.tokens) == 0 {
		return nil, fmt.Errorf("no node reported tokens (%d nodes known)", len(nodes))
	}
	sort.Slice(r.tokens, func(i, j int) bool { return r.tokens[i].T < r.tokens[j].T })
	return r, nil
}

// replication is a keyspace's replication settings.
type replication map[string]string

// replicas returns, for the token at ring index i, the nodes that hold
// it under the keyspace's replication: SimpleStrategy walks the ring for
// rf distinct nodes; NetworkTopologyStrategy does so per datacenter,
// preferring racks not yet used, as Cassandra does; LocalStrategy and
// anything else make every node a replica.
func (r *ring) replicas(i int, repl replication) []int {
	class := repl["class"]
	switch {
	case strings.HasSuffix(class, "SimpleStrategy"):
		rf, _ := strconv.Atoi(repl["replication_factor"])
		return r.walk(i, func(int) bool { return true }, max(rf, 1))
	case strings.HasSuffix(class, "NetworkTopologyStrategy"):
		return r.nts(i, repl)
	default:
		out := make([]int, len(r.nodes))
		for j := range out {
			out[j] = j
		}
		return out
	}
}

// walk collects up to n distinct nodes that ok accepts, clockwise from
// ring index i.
func (r *ring) walk(i int, ok func(int) bool, n int) []int {
	var out []int
	seen := map[int]bool{}
	for k := 0; k < len(r.tokens) && len(out) < n; k++ {
		nd := r.tokens[(i+k)%len(r.tokens)].Node
		if !seen[nd] && ok(nd) {
			seen[nd] = true
			out = append(out, nd)
		}
	}
	return out
}

// nts is NetworkTopologyStrategy's replica choice for ring index i:
// datacenters in name order, in each the first rf nodes clockwise whose
// rack is new, then the skipped ones.
func (r *ring) nts(i int, repl replication) []int {
	var dcs []string
	for dc := range repl {
		if dc != "class" && dc != "replication_factor" {
			dcs = append(dcs, dc)
		}
	}
	sort.Strings(dcs)
	var out []int
	for _, dc := range dcs {
		rf, _ := strconv.Atoi(repl[dc])
		out = append(out, r.ntsDC(i, dc, rf)...)
	}
	return out
}

func (r *ring) ntsDC(i int, dc string, rf int) []int {
	racks := map[string]bool{}
	for _, n := range r.nodes {
		if n.DC == dc {
			racks[n.Rack] = true
		}
	}
	var out, skipped []int
	seen, usedRack := map[int]bool{}, map[string]bool{}
	for k := 0; k < len(r.tokens) && len(out) < rf; k++ {
		nd := r.tokens[(i+k)%len(r.tokens)].Node
		n := r.nodes[nd]
		if n.DC != dc || seen[nd] {
			continue
		}
		seen[nd] = true
		if usedRack[n.Rack] && len(usedRack) < len(racks) {
			skipped = append(skipped, nd)
			continue
		}
		usedRack[n.Rack] = true
		out = append(out, nd)
	}
	for _, nd := range skipped {
		if len(out) < rf {
			out = append(out, nd)
		}
	}
	return out
}

// ranges splits the token space into the ring's ranges cut at the parts'
// bounds, each with its replicas (addresses) and part, in token order.
func (r *ring) ranges(repl replication, parts int) []tokenRange {
	bounds := partBounds(parts)
	var out []tokenRange
	prev := int64(minToken)
	for i := 0; i <= len(r.tokens); i++ {
		end, owner := int64(maxToken), 0 // the wrap-around range belongs to the first token
		if i < len(r.tokens) {
			end, owner = r.tokens[i].T, i
		}
		if end <= prev && i < len(r.tokens) {
			continue
		}
		reps := r.addrs(r.replicas(owner, repl))
		out = append(out, cutRange(prev, end, reps, bounds)...)
		prev = end
	}
	return out
}

func (r *ring) addrs(idx []int) []string {
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = r.nodes[n].Addr
	}
	return out
}

// partBounds returns the parts' upper bounds: part i holds the tokens
// (bounds[i-1], bounds[i]], part 0 from minToken.
func partBounds(parts int) []int64 {
	span := new(big.Int).Lsh(big.NewInt(1), 64)
	out := make([]int64, parts)
	for i := 1; i <= parts; i++ {
		v := new(big.Int).Mul(span, big.NewInt(int64(i)))
		v.Div(v, big.NewInt(int64(parts)))
		v.Add(v, big.NewInt(minToken))
		if i == parts || !v.IsInt64() {
			out[i-1] = maxToken
			continue
		}
		out[i-1] = v.Int64()
	}
	return out
}

// partOf returns the part that holds token t.
func partOf(t int64, bounds []int64) int {
	return sort.Search(len(bounds), func(i int) bool { return bounds[i] >= t })
}

// cutRange splits (start, end] at the part bounds inside it.
func cutRange(start, end int64, reps []string, bounds []int64) []tokenRange {
	var out []tokenRange
	for start < end {
		p := partOf(start+1, bounds)
		e := min(end, bounds[p])
		out = append(out, tokenRange{Start: start, End: e, Replicas: reps, Part: p})
		start = e
	}
	return out
}
