package cassandra

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gocql/gocql"
)

// bindValue turns a value's JSON (as toJson renders it) into a Go value
// the driver binds natively, for the common single-value types, so that
// a load spares the server parsing JSON; ok is false for any other type
// or form (the value then goes through fromJson).
func bindValue(typ, js string) (interface{}, bool) {
	switch typ {
	case "int", "bigint", "smallint", "tinyint":
		n, err := strconv.ParseInt(js, 10, 64)
		return n, err == nil
	case "text", "varchar", "ascii":
		return jsonText(js)
	case "boolean":
		return js == "true", js == "true" || js == "false"
	case "double":
		f, err := strconv.ParseFloat(js, 64)
		return f, err == nil
	case "uuid", "timeuuid":
		s, ok := jsonText(js)
		if !ok {
			return nil, false
		}
		u, err := gocql.ParseUUID(s.(string))
		return u, err == nil
	case "blob":
		s, ok := jsonText(js)
		str, _ := s.(string)
		if !ok || !strings.HasPrefix(str, "0x") {
			return nil, false
		}
		b, err := hex.DecodeString(str[2:])
		return b, err == nil
	}
	return nil, false
}

// jsonText decodes a JSON string.
func jsonText(js string) (interface{}, bool) {
	if len(js) < 2 || js[0] != '"' || js[len(js)-1] != '"' {
		return nil, false
	}
	if !strings.ContainsRune(js, '\\') {
		return js[1 : len(js)-1], true
	}
	var s string
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, false
	}
	return s, true
}
