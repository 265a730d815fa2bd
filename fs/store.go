package fs

import "github.com/stratabackup/strata/index"

// FromStore returns the store as a Catalog. *index.Store has every method
// Catalog needs, but its OpenFile returns the concrete *index.FileReader,
// and Go does not let that satisfy an interface method returning
// FileReader; this wrapper converts the result.
func FromStore(s *index.Store) Catalog { return storeCatalog{s} }

type storeCatalog struct{ *index.Store }

// OpenFile returns the store's reader as a FileReader.
func (c storeCatalog) OpenFile(f index.File) FileReader { return c.Store.OpenFile(f) }

var _ Catalog = storeCatalog{}
