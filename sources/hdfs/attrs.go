package hdfs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// extraAttrs adds rel's ACL (when its status says it has one) and its
// extended attributes (unless configured off) to attrs.
func (b *backup) extraAttrs(ctx context.Context, c *conn, rel string, st *hdfs.FileStatus, attrs map[string]string) error {
	full := b.full(rel)
	if st.GetFlags()&flagHasACL != 0 {
		acl, err := getACL(ctx, c.nn, full)
		if err != nil {
			return err
		}
		if acl != "" {
			attrs[attrACL] = acl
		}
	}
	if b.cfg.NoXAttrs || int32(st.GetFileType()) == fileTypeSymlink {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	xa, err := c.c.ListXAttrs(full)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil
		}
		return fmt.Errorf("list extended attributes of %s: %w", full, err)
	}
	for k, v := range xa {
		attrs[attrXAttrPrefix+k] = v
	}
	return nil
}

// errNotFound matches a path that vanished between listing and a call.
var errNotFound = errNotExist{}

type errNotExist struct{}

func (errNotExist) Error() string { return "file does not exist" }
func (errNotExist) Is(err error) bool {
	return err != nil && strings.Contains(err.Error(), "does not exist")
}

// aclTypes and aclPerms name AclEntryProto's enums as aclspec writes them.
var (
	aclTypes = []string{"user", "group", "mask", "other"}
	aclPerms = []string{"---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"}
)

// getACL returns path's ACL entries as an aclspec: the extended entries
// getAclStatus lists ("user:bob:rwx,default:group::r-x"); the base ones
// are the permission bits.
func getACL(ctx context.Context, nn *namenode, p string) (string, error) {
	resp, err := nn.call(ctx, "getAclStatus", "GetAclStatusRequestProto", "GetAclStatusResponseProto", func(r protoreflect.Message) {
		set(r, "src", str(p))
	})
	if err != nil {
		return "", fmt.Errorf("get ACL of %s: %w", p, err)
	}
	l := get(get(resp, "result").Message(), "entries").List()
	specs := make([]string, 0, l.Len())
	for i := range l.Len() {
		m := l.Get(i).Message()
		typ, scope, perm := int(get(m, "type").Enum()), int(get(m, "scope").Enum()), int(get(m, "permissions").Enum())
		if typ < 0 || typ >= len(aclTypes) || perm < 0 || perm >= len(aclPerms) {
			return "", fmt.Errorf("ACL of %s: unknown entry type %d or permission %d", p, typ, perm)
		}
		s := aclTypes[typ] + ":" + get(m, "name").String() + ":" + aclPerms[perm]
		if scope == 1 {
			s = "default:" + s
		}
		specs = append(specs, s)
	}
	return strings.Join(specs, ","), nil
}

// setACL adds the entries of an aclspec to path's ACL
// (modifyAclEntries), leaving the permission bits as they are.
func setACL(ctx context.Context, nn *namenode, p, spec string) error {
	_, err := nn.call(ctx, "modifyAclEntries", "ModifyAclEntriesRequestProto", "ModifyAclEntriesResponseProto", func(r protoreflect.Message) {
		set(r, "src", str(p))
		l := r.Mutable(fieldOf(r, "aclSpec")).List()
		for _, s := range strings.Split(spec, ",") {
			if e, ok := aclEntry(l, s); ok {
				l.Append(protoreflect.ValueOfMessage(e))
			}
		}
	})
	if err != nil {
		return fmt.Errorf("set ACL %q on %s: %w", spec, p, err)
	}
	return nil
}

// aclEntry parses one aclspec entry into a new element of l.
func aclEntry(l protoreflect.List, s string) (protoreflect.Message, bool) {
	scope := 0
	if rest, ok := strings.CutPrefix(s, "default:"); ok {
		scope, s = 1, rest
	}
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return nil, false
	}
	typ, perm := index(aclTypes, f[0]), index(aclPerms, f[2])
	if typ < 0 || perm < 0 {
		return nil, false
	}
	e := l.NewElement().Message()
	set(e, "type", protoreflect.ValueOfEnum(protoreflect.EnumNumber(typ)))
	set(e, "scope", protoreflect.ValueOfEnum(protoreflect.EnumNumber(scope)))
	set(e, "permissions", protoreflect.ValueOfEnum(protoreflect.EnumNumber(perm)))
	if f[1] != "" {
		set(e, "name", str(f[1]))
	}
	return e, true
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
