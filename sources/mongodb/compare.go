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
	case bson.TypeMinKey:
		return -1
	case bson.TypeUndefined:
		return 0
	case bson.TypeNull:
		return 5
	case bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeDecimal128:
		return 10
	case bson.TypeString, bson.TypeSymbol:
		return 15
	case bson.TypeEmbeddedDocument:
		return 20
	case bson.TypeArray:
		return 25
	case bson.TypeBinary:
		return 30
	case bson.TypeObjectID:
		return 35
	case bson.TypeBoolean:
		return 40
	case bson.TypeDateTime:
		return 45
	case bson.TypeTimestamp:
		return 47
	case bson.TypeRegex:
		return 50
	case bson.TypeDBPointer:
		return 55
	case bson.TypeJavaScript:
		return 60
	case bson.TypeCodeWithScope:
		return 65
	case bson.TypeMaxKey:
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
	case bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeDecimal128:
		return compareNumbers(a, b)
	case bson.TypeString, bson.TypeSymbol:
		return bytes.Compare(stringBytes(a), stringBytes(b))
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		return compareDocs(bson.Raw(a.Value), bson.Raw(b.Value))
	case bson.TypeBinary:
		return compareBinary(a.Value, b.Value)
	case bson.TypeBoolean, bson.TypeObjectID:
		return bytes.Compare(a.Value, b.Value)
	case bson.TypeDateTime:
		return cmpInt64(a.DateTime(), b.DateTime())
	case bson.TypeTimestamp:
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
	case bson.TypeInt32:
		return int64(v.Int32()), true
	case bson.TypeInt64:
		return v.Int64(), true
	}
	return 0, false
}

// floatOf returns v as an exact big.Float, nil for NaN.
func floatOf(v bson.RawValue) *big.Float {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		i, _ := intOf(v)
		return new(big.Float).SetInt64(i)
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) {
			return nil
		}
		return new(big.Float).SetFloat64(f)
	case bson.TypeDecimal128:
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
