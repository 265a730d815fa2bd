package cassandra

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/gocql/gocql"
)

// Columns of common single-value types are read as the driver decodes
// them and rendered as JSON here, as toJson() would (and as INSERT JSON
// and fromJson() take back): the server then spends nothing on toJson
// for them. Every other type goes through toJson().

// nativeType tells whether a column's type is read natively.
func nativeType(typ string) bool {
	switch typ {
	case "int", "bigint", "smallint", "tinyint", "text", "varchar", "ascii", "boolean",
		"uuid", "timeuuid", "blob", "double", "float", "timestamp":
		return true
	}
	return false
}

// nativeDest returns a scan destination for a native type: a pointer to
// a nil pointer, so that a null reads as nil.
func nativeDest(typ string) interface{} {
	switch typ {
	case "int", "bigint", "smallint", "tinyint":
		return new(*int64)
	case "text", "varchar", "ascii":
		return new(*string)
	case "boolean":
		return new(*bool)
	case "uuid", "timeuuid":
		return new(*gocql.UUID)
	case "blob":
		return new([]byte)
	case "double":
		return new(*float64)
	case "float":
		return new(*float32)
	case "timestamp":
		return new(*time.Time)
	}
	return nil
}

// nativeJSON renders a scanned native value as JSON ("null" when null)
// and resets the destination for the next row.
func nativeJSON(dest interface{}) string {
	switch d := dest.(type) {
	case **int64:
		return render(d, func(v int64) string { return strconv.FormatInt(v, 10) })
	case **string:
		return render(d, jsonString)
	case **bool:
		return render(d, strconv.FormatBool)
	case **gocql.UUID:
		return render(d, func(v gocql.UUID) string { return `"` + v.String() + `"` })
	case *[]byte:
		if *d == nil {
			return "null"
		}
		s := `"0x` + hex.EncodeToString(*d) + `"`
		*d = nil
		return s
	case **float64:
		return render(d, func(v float64) string { return floatJSON(v, 64) })
	case **float32:
		return render(d, func(v float32) string { return floatJSON(float64(v), 32) })
	case **time.Time:
		return render(d, timestampJSON)
	}
	return "null"
}

func render[T any](d **T, f func(T) string) string {
	if *d == nil {
		return "null"
	}
	s := f(**d)
	*d = nil
	return s
}

// floatJSON renders a float exactly (the shortest form that reads back
// the same), NaN and infinities as the strings fromJson takes.
func floatJSON(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return `"NaN"`
	case math.IsInf(f, 1):
		return `"Infinity"`
	case math.IsInf(f, -1):
		return `"-Infinity"`
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// timestampJSON renders a timestamp as toJson does, or as milliseconds
// since the epoch (which fromJson also takes) outside years 1-9999.
func timestampJSON(t time.Time) string {
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	return `"` + t.Format("2006-01-02 15:04:05.000Z") + `"`
}
