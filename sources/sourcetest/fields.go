package sourcetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// ChangeEachField runs check in a subtest per field of the struct T,
// named after it, on full() with that one field changed: for code that
// compares values (or their encodings) and must see every field, so that
// a field added to T fails such tests until they are taught to change
// it. Strings and integers are changed here, other fields by other,
// which reports false for a field it does not know.
func ChangeEachField[T any](t *testing.T, full func() T, other func(v *T, field string) bool, check func(t *testing.T, changed T)) {
	t.Helper()
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		t.Run(name, func(t *testing.T) {
			v := full()
			f := reflect.ValueOf(&v).Elem().Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Uint8, reflect.Uint32, reflect.Uint64:
				f.SetUint(f.Uint() + 1)
			case reflect.Int64:
				f.SetInt(f.Int() + 1)
			default:
				if !other(&v, name) {
					t.Fatalf("field %s of kind %s: teach this test to change it", name, f.Kind())
				}
			}
			check(t, v)
		})
	}
}

// EachFieldChanged is ChangeEachField for sources.Entry; full must set
// an owner (attributes are replaced).
func EachFieldChanged(t *testing.T, full func() sources.Entry, check func(t *testing.T, changed sources.Entry)) {
	t.Helper()
	ChangeEachField(t, full, func(e *sources.Entry, field string) bool {
		switch field {
		case "ModTime":
			e.ModTime = e.ModTime.Add(time.Nanosecond)
		case "Owner":
			o := *e.Owner
			o.GID++
			e.Owner = &o
		case "Attrs":
			e.Attrs = map[string]string{"k": "changed"}
		default:
			return false
		}
		return true
	}, check)
}
