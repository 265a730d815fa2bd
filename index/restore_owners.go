package index

import (
	"fmt"
	"math"
	"os"
	"os/user"
	"strconv"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// owners applies recorded owners to restored entries. Only root may give
// a file away, so as any other user it does nothing: the files are the
// restoring user's, as cp and tar without root leave them. As root, each
// id comes from the recorded name where that name exists on this machine
// (ids differ between machines, names usually mean the same account),
// else from the recorded id, as tar does; what is known of neither is
// left as created. Name lookups (NSS: files, LDAP) are slow, so each name
// is looked up once per restore, misses included.
type owners struct {
	enabled bool
	// lookupUser and lookupGroup return a name's id on this machine.
	lookupUser, lookupGroup func(name string) (int, bool)

	mu     sync.Mutex
	users  map[string]int // name -> id, -1 when the name does not resolve
	groups map[string]int
	failed int   // entries whose owner could not be set
	first  error // the first such failure
}

func newOwners() *owners {
	return &owners{
		enabled:     os.Geteuid() == 0,
		lookupUser:  lookupUserID,
		lookupGroup: lookupGroupID,
		users:       map[string]int{},
		groups:      map[string]int{},
	}
}

func lookupUserID(name string) (int, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(u.Uid)
	return id, err == nil
}

func lookupGroupID(name string) (int, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(g.Gid)
	return id, err == nil
}

// ids returns the ids to give an entry owned by o, -1 for "leave as is".
func (c *owners) ids(o *sources.Owner) (uid, gid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return localID(c.users, c.lookupUser, o.User, o.UID), localID(c.groups, c.lookupGroup, o.Group, o.GID)
}

// localID is the id of name on this machine if it has one (cached in
// cache), else recorded (-1 when that is unknown too).
func localID(cache map[string]int, lookup func(string) (int, bool), name string, recorded int64) int {
	if name != "" {
		id, ok := cache[name]
		if !ok {
			id = -1
			if n, found := lookup(name); found {
				id = n
			}
			cache[name] = id
		}
		if id >= 0 {
			return id
		}
	}
	if recorded < 0 || recorded > math.MaxInt32 {
		return -1
	}
	return int(recorded)
}

// apply gives dst (restored from f) f's owner through chown, when running
// as root and f has one. A failure (a filesystem without owners, ids a
// user namespace does not map) is counted, not returned, so that the
// restore still writes every file; err reports it at the end.
func (c *owners) apply(f File, dst string, chown func(uid, gid int) error) {
	if !c.enabled || f.Owner == nil {
		return
	}
	uid, gid := c.ids(f.Owner)
	if uid < 0 && gid < 0 {
		return
	}
	if err := chown(uid, gid); err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.failed == 0 {
			c.first = fmt.Errorf("set owner of %s to %s (uid %d, gid %d): %w", dst, ownerName(f.Owner), uid, gid, err)
		}
		c.failed++
	}
}

// err reports the owners that could not be set, nil if none.
func (c *owners) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed == 0 {
		return nil
	}
	return fmt.Errorf("restore: every file was written, but the owner of %d entries could not be set; the first: %w", c.failed, c.first)
}

// ownerName shows an owner as user:group, with ids for unknown names.
func ownerName(o *sources.Owner) string {
	name := func(n string, id int64) string {
		switch {
		case n != "":
			return n
		case id >= 0:
			return strconv.FormatInt(id, 10)
		}
		return "?"
	}
	return name(o.User, o.UID) + ":" + name(o.Group, o.GID)
}
