package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// Damaged is an index file or a version the catalog could not load
// because what the backend holds for it is damaged: a manifest or index
// that does not decode, a file list chunk that fails its hash, lies in a
// missing pack or in no index. Sync records it and goes on, so that one
// damaged pack does not make every other version unreadable on a machine
// whose catalog is new (and `strata check` can say what it affects); the
// record stays until the object leaves the backend or the catalog is
// rebuilt, when loading it is tried again.
type Damaged struct {
	// Name is the backend object: "indexes/<id>" or "versions/...".
	Name string `json:"name"`
	// Problem is why it could not be loaded.
	Problem string `json:"problem"`
	// FileList is a version's file list chunks, when its manifest could
	// be read: a check names the bad ones.
	FileList []format.ChunkRef `json:"file_list,omitempty"`
}

// IsVersion reports whether d is a version (else an index file).
func (d Damaged) IsVersion() bool { return strings.HasPrefix(d.Name, "versions/") }

// isDamage reports whether err says the stored bytes are bad (as opposed
// to the backend being unreachable, or the context ending), so that the
// object is recorded as damaged instead of failing the sync.
func isDamage(err error) bool {
	return errors.Is(err, format.ErrCorrupt) || errors.Is(err, format.ErrUndecodable) ||
		errors.Is(err, errChunkUnindexed) || errors.Is(err, backends.ErrNotFound)
}

// addDamaged records d.
func (c *Catalog) addDamaged(d Damaged) error {
	val, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("catalog damaged %s: %w", d.Name, err)
	}
	return c.write(func(b *pebble.Batch) error { return b.Set(damagedKey(d.Name), val, nil) })
}

// dropDamaged forgets the record of name (gone from the backend).
func (c *Catalog) dropDamaged(name string) error {
	return c.write(func(b *pebble.Batch) error { return b.Delete(damagedKey(name), nil) })
}

// Damaged lists what the catalog could not load, by name.
func (c *Catalog) Damaged() ([]Damaged, error) {
	var out []Damaged
	err := c.scan(kindPrefix(keyDamaged), func(_, v []byte) error {
		var d Damaged
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("catalog damaged record: %w", err)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// damagedNames returns the names of the damaged objects under prefix
// ("indexes/" or "versions/").
func (c *Catalog) damagedNames(prefix string) (map[string]bool, error) {
	return c.names(damagedKey(prefix))
}
