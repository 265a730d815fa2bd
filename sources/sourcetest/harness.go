package sourcetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// Harness gives the suite what it cannot know of a kind: how to build a
// fixture and the source over it, and how to change it. File and row
// sources fill it alike: an object is a directory, a collection, a table;
// an item is a file or a row.
type Harness struct {
	// Setup creates a fresh fixture holding one object per spec, filled
	// with the spec's items, and returns the source under test over it and
	// the objects as the source discovers them, objs[i] for specs[i]. The
	// suite closes the source.
	Setup func(t *testing.T, specs []Spec) (src sources.Source, objs []sources.Object)
	// Change gives item (one of obj's spec items, by Name) the new content
	// item.Data: rewrites the file, updates the row.
	Change func(t *testing.T, obj sources.Object, item Item)
	// NameOK reports whether the kind can have an object of that name
	// (posix table names have no "." or ".." components; a database may
	// reject some bytes). The hostile-names test creates only those; nil
	// accepts every name.
	NameOK func(name string) bool
	// Files says items are files of the version at their Name with their
	// Data as content (file sources), so the suite checks paths and
	// contents; row sources write items in a format of their own.
	Files bool
	// Reuses says a second backup refers to the previous version's
	// content (Writer.Keep, AddSpans ranges) instead of adding unchanged
	// bytes anew.
	Reuses bool
}

// Spec is an object the suite asks the harness to create.
type Spec struct {
	// Name is the object's raw name (a posix table, a collection); it may
	// hold any bytes, see HostileNames.
	Name  string
	Items []Item
}

// Item is one file or row of an object.
type Item struct {
	// Name is a file's path relative to the object ('/'-separated), a
	// row's key; it may hold any bytes but NUL.
	Name string
	Data []byte
}

// bigItems is how many items the non-trivial object has: enough that a
// source reporting progress every thousand units reports during a backup
// and that a source ignoring cancellation shows.
const bigItems = 1500

// bigSpec is the non-trivial object: items in a few directories (for a
// file source), of 100 to 600 bytes of incompressible content.
func bigSpec() Spec {
	rng := rand.New(rand.NewPCG(1, 2))
	s := Spec{Name: "big"}
	for i := range bigItems {
		data := make([]byte, 100+rng.IntN(500))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		s.Items = append(s.Items, Item{Name: fmt.Sprintf("d%02d/item%05d", i/200, i), Data: data})
	}
	return s
}

// smallSpec is a second, trivial object.
func smallSpec() Spec {
	return Spec{Name: "small", Items: []Item{
		{Name: "a", Data: []byte("alpha\n")},
		{Name: "empty", Data: []byte{}},
		{Name: "sub/b", Data: []byte("beta\n")},
	}}
}

// HostileNames are object names the suite creates when the harness's
// NameOK allows them: a '/', "..", control characters, invalid UTF-8,
// characters the escaping uses, and a name whose escaped form is longer
// than sources.MaxNameLen.
var HostileNames = []string{
	"slash/inside",
	"dots..name",
	"ctl\x01\x1f\x7fname",
	"tab\tnew\nline",
	"bad\xff\xfeutf8",
	"%2F not a slash",
	"back\\slash",
	"C1\u0085ctl and ünïcødé",
	strings.Repeat("long\x01", 40),
}

// hostileItems are item names with the same kinds of bytes, including a
// component of 255 bytes, the longest a file name can be.
var hostileItems = []string{
	"ctl\x01\x1f\x7f",
	"tab\tnew\nline",
	"bad\xff\xfeutf8",
	"..dots",
	"dir/..x/y",
	"%2F not a slash",
	"back\\slash",
	" lead and trail ",
	strings.Repeat("n", 250) + "\xff\x01end",
	"C1\u0085ctl and ünïcødé",
}

func hostileSpec(name string) Spec {
	s := Spec{Name: name}
	for i, n := range hostileItems {
		s.Items = append(s.Items, Item{Name: n, Data: []byte(fmt.Sprintf("hostile item %d of %q\n", i, name))})
	}
	return s
}
