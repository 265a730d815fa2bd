package mongodb

import (
	"bytes"
	"math"
	"math/big"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// typeRank is MongoDB's canonical order of BSON type brackets.
func typeRank(t bsontype.Type) int {
	switch t {
	case bsontype.MinKey:
		return -1
	case bsontype.Undefined:
		return 0
	case bsontype.Null:
		return 5
	case bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128:
		return 10
	case bsontype.String, bsontype.Symbol:
		return 15
	case bsontype.EmbeddedDocument:
		return 20
	case bsontype.Array:
		return 25
	case bsontype.Binary:
		return 30
	case bsontype.ObjectID:
		return 35
	case bsontype.Boolean:
		return 40
	case bsontype.DateTime:
		return 45
	case bsontype.Timestamp:
		return 47
	case bsontype.Regex:
		return 50
	case bsontype.DBPointer:
		return 55
	case bsontype.JavaScript:
		return 60
	case bsontype.CodeWithScope:
		return 65
	case bsontype.MaxKey:
		return 100
	}
	return 70
}

// compareValues orders two BSON values as MongoDB sorts _id (simple
// collation). Diff relies on it only to merge two streams that the server
// already sorted; a disagreement is detected there and handled.
func compareValues(a, b bson.RawValue) int {
	ra, rb := typeRank(a.Type), typeRank(b.Type)
	if ra != rb {
		return cmpInt(ra, rb)
	}
	switch a.Type {
	case bsontype.Double, bsontype.Int32, bsontype.Int64, bsontype.Decimal128:
		return compareNumbers(a, b)
	case bsontype.String, bsontype.Symbol:
		return bytes.Compare(stringBytes(a), stringBytes(b))
	case bsontype.EmbeddedDocument, bsontype.Array:
		return compareDocs(bson.Raw(a.Value), bson.Raw(b.Value))
	case bsontype.Binary:
		return compareBinary(a.Value, b.Value)
	case bsontype.Boolean, bsontype.ObjectID:
		return bytes.Compare(a.Value, b.Value)
	case bsontype.DateTime:
		return cmpInt64(a.DateTime(), b.DateTime())
	case bsontype.Timestamp:
		at, ai := a.Timestamp()
		bt, bi := b.Timestamp()
		if at != bt {
			return cmpInt64(int64(at), int64(bt))
		}
		return cmpInt64(int64(ai), int64(bi))
	}
	return bytes.Compare(a.Value, b.Value)
}

func stringBytes(v bson.RawValue) []byte {
	if len(v.Value) < 5 {
		return nil
	}
	return v.Value[4 : len(v.Value)-1]
}

// compareBinary orders BinData by length, then subtype, then bytes.
func compareBinary(a, b []byte) int {
	if len(a) != len(b) {
		return cmpInt(len(a), len(b))
	}
	return bytes.Compare(a, b) // same length: int32 length equal, subtype, data
}

func compareDocs(a, b bson.Raw) int {
	ea, _ := a.Elements()
	eb, _ := b.Elements()
	for i := 0; i < len(ea) && i < len(eb); i++ {
		va, vb := ea[i].Value(), eb[i].Value()
		if c := cmpInt(typeRank(va.Type), typeRank(vb.Type)); c != 0 {
			return c
		}
		if c := bytes.Compare([]byte(ea[i].Key()), []byte(eb[i].Key())); c != 0 {
			return c
		}
		if c := compareValues(va, vb); c != 0 {
			return c
		}
	}
	return cmpInt(len(ea), len(eb))
}

func compareNumbers(a, b bson.RawValue) int {
	if ai, ok := intOf(a); ok {
		if bi, ok := intOf(b); ok {
			return cmpInt64(ai, bi)
		}
	}
	fa, fb := floatOf(a), floatOf(b)
	if fa == nil || fb == nil { // NaN sorts below every number
		return cmpBool(fa != nil, fb != nil)
	}
	return fa.Cmp(fb)
}

func intOf(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bsontype.Int32:
		return int64(v.Int32()), true
	case bsontype.Int64:
		return v.Int64(), true
	}
	return 0, false
}

// floatOf returns v as an exact big.Float, nil for NaN.
func floatOf(v bson.RawValue) *big.Float {
	switch v.Type {
	case bsontype.Int32, bsontype.Int64:
		i, _ := intOf(v)
		return new(big.Float).SetInt64(i)
	case bsontype.Double:
		f := v.Double()
		if math.IsNaN(f) {
			return nil
		}
		return new(big.Float).SetFloat64(f)
	case bsontype.Decimal128:
		d := v.Decimal128()
		bi, exp, err := d.BigInt()
		if err != nil {
			if d.IsInf() != 0 {
				return new(big.Float).SetInf(d.IsInf() < 0)
			}
			return nil
		}
		f := new(big.Float).SetPrec(256).SetInt(bi)
		p := new(big.Float).SetPrec(256).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil))
		if exp < 0 {
			return f.Quo(f, p)
		}
		return f.Mul(f, p)
	}
	return nil
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func cmpInt(a, b int) int { return cmpInt64(int64(a), int64(b)) }

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
