package mongodb

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zeebo/blake3"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

var testTime = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// makeDocs returns n documents with ObjectId _ids in ascending order and a
// payload making each about size bytes.
func makeDocs(t testing.TB, rng *rand.Rand, n, size int) []bson.Raw {
	t.Helper()
	docs := make([]bson.Raw, n)
	for i := range docs {
		var id primitive.ObjectID
		id[0], id[1], id[2], id[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		for j := 4; j < 12; j++ {
			id[j] = byte(rng.IntN(256))
		}
		docs[i] = makeDoc(t, id, rng, size)
	}
	return docs
}

func makeDoc(t testing.TB, id primitive.ObjectID, rng *rand.Rand, size int) bson.Raw {
	t.Helper()
	pad := make([]byte, max(0, size-60)+rng.IntN(size/4+1))
	for i := range pad {
		pad[i] = 'a' + byte(rng.IntN(26))
	}
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "n", Value: rng.Int64()}, {Key: "s", Value: string(pad)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chunkAll runs docs through pieces and returns the pieces' hashes and sizes.
func chunkAll(t testing.TB, docs []bson.Raw, minBytes int) (map[[32]byte]int, []byte) {
	t.Helper()
	i := 0
	next := pieces(minBytes, func() (bson.Raw, error) {
		if i == len(docs) {
			return nil, io.EOF
		}
		i++
		return docs[i-1], nil
	})
	out := map[[32]byte]int{}
	var all []byte
	for {
		p, err := next()
		if err == io.EOF {
			return out, all
		}
		if err != nil {
			t.Fatal(err)
		}
		out[blake3.Sum256(p)] = len(p)
		all = append(all, p...)
	}
}

// TestChunkChangeFraction updates 5% of the documents at random and
// measures which fraction of the second version's pieces (by count and by
// bytes) is new: what the store would have to add.
func TestChunkChangeFraction(t *testing.T) {
	cases := []struct {
		name                 string
		docSize, minBytes    int
		maxCount, maxByBytes float64
	}{
		{"100B docs default", 100, DefaultChunkMinBytes, 0.13, 0.14},
		{"300B docs default", 300, DefaultChunkMinBytes, 0.08, 0.08},
		{"1KiB docs default", 1000, DefaultChunkMinBytes, 0.06, 0.06},
		{"100B docs one per piece", 100, 1, 0.06, 0.06},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			docs := makeDocs(t, rng, 20000, tc.docSize)
			v1, all := chunkAll(t, docs, tc.minBytes)
			if !bytes.Equal(all, bytes.Join(rawSlices(docs), nil)) {
				t.Fatal("pieces do not concatenate to the documents")
			}
			for _, i := range rng.Perm(len(docs))[:len(docs)/20] {
				id := docs[i].Lookup("_id").ObjectID()
				docs[i] = makeDoc(t, id, rng, tc.docSize)
			}
			v2, _ := chunkAll(t, docs, tc.minBytes)
			newCount, newBytes, total := 0, 0, 0
			for h, n := range v2 {
				total += n
				if _, ok := v1[h]; !ok {
					newCount++
					newBytes += n
				}
			}
			fc, fb := float64(newCount)/float64(len(v2)), float64(newBytes)/float64(total)
			t.Logf("pieces %d (avg %d B), new after 5%% updates: %.1f%% by count, %.1f%% by bytes",
				len(v2), total/len(v2), 100*fc, 100*fb)
			if fc > tc.maxCount || fb > tc.maxByBytes {
				t.Errorf("new pieces %.3f by count (max %.2f), %.3f by bytes (max %.2f)", fc, tc.maxCount, fb, tc.maxByBytes)
			}
		})
	}
}

func rawSlices(docs []bson.Raw) [][]byte {
	out := make([][]byte, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}

func TestChunkInsertMovesLocalBoundariesOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	docs := makeDocs(t, rng, 5000, 100)
	v1, _ := chunkAll(t, docs, DefaultChunkMinBytes)
	var id primitive.ObjectID
	id[11] = 1
	ins := append([]bson.Raw{}, docs[:2500]...)
	ins = append(ins, makeDoc(t, id, rng, 100))
	ins = append(ins, docs[2500:]...)
	v2, _ := chunkAll(t, ins, DefaultChunkMinBytes)
	fresh := 0
	for h := range v2 {
		if _, ok := v1[h]; !ok {
			fresh++
		}
	}
	if fresh > 3 {
		t.Errorf("one inserted document made %d new pieces, want at most 3", fresh)
	}
}
