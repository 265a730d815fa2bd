package posix

import (
	"os/user"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// nameTTL is how long a resolved (or unresolvable) id is trusted. A backup
// of a million files owned by a handful of accounts then asks NSS (files,
// LDAP, sssd: milliseconds each) a handful of times, while a daemon that
// runs for months still sees an account created or renamed since.
const nameTTL = 10 * time.Minute

// ownerOf is the owner recorded for a stat result: the numeric ids, which
// restore falls back to, and the names where this machine resolves them,
// which restore prefers on a machine where ids differ.
func ownerOf(st *unix.Stat_t) *sources.Owner {
	return &sources.Owner{
		User:  userNames.name(st.Uid),
		Group: groupNames.name(st.Gid),
		UID:   int64(st.Uid),
		GID:   int64(st.Gid),
	}
}

// idNames caches id-to-name lookups, misses included ("" for an id with no
// name, common for files unpacked from another machine's archive: a miss
// is the slowest lookup, as every source is asked). It is shared by every
// backup of the process, since accounts are the machine's, not a tree's.
type idNames struct {
	lookup func(id string) (string, error)

	mu sync.Mutex
	m  map[uint32]*cachedName
}

// cachedName is one id's name, looked up once however many walkers ask for
// it at the same time; later askers wait for the first lookup.
type cachedName struct {
	once sync.Once
	at   time.Time
	name string
}

var (
	userNames = &idNames{lookup: func(id string) (string, error) {
		u, err := user.LookupId(id)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	}}
	groupNames = &idNames{lookup: func(id string) (string, error) {
		g, err := user.LookupGroupId(id)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	}}
)

// name returns id's name, "" when it has none here or the lookup failed:
// the numeric id is recorded anyway, so a failed lookup costs only the
// name.
func (c *idNames) name(id uint32) string {
	c.mu.Lock()
	e := c.m[id]
	if e == nil || time.Since(e.at) > nameTTL {
		if c.m == nil {
			c.m = map[uint32]*cachedName{}
		}
		e = &cachedName{at: time.Now()}
		c.m[id] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		if n, err := c.lookup(strconv.FormatUint(uint64(id), 10)); err == nil {
			e.name = n
		}
	})
	return e.name
}
