package hdfs

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// currentUser is the local user's name, "" when unknown.
func currentUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// isReplicating reports the client's "retry Close" error.
func isReplicating(err error) bool { return hdfs.IsErrReplicating(err) }

// copyContext copies r to w, checking ctx between buffers.
func copyContext(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// linkTarget returns the target of the symlink p; an error when p is no
// symlink or does not exist.
func linkTarget(ctx context.Context, nn *namenode, p string) (string, error) {
	resp, err := nn.call(ctx, "getFileLinkInfo", "GetFileLinkInfoRequestProto", "GetFileLinkInfoResponseProto", func(r protoreflect.Message) {
		set(r, "src", str(p))
	})
	if err != nil {
		return "", err
	}
	if !resp.Has(fieldOf(resp, "fs")) {
		return "", fmt.Errorf("%s does not exist", p)
	}
	st := asStatus(get(resp, "fs").Message())
	if int32(st.GetFileType()) != fileTypeSymlink {
		return "", fmt.Errorf("%s is not a symlink", p)
	}
	return string(st.GetSymlink()), nil
}

// createSymlink creates link -> target (its parent must exist).
func createSymlink(ctx context.Context, nn *namenode, target, link string) error {
	_, err := nn.call(ctx, "createSymlink", "CreateSymlinkRequestProto", "CreateSymlinkResponseProto", func(r protoreflect.Message) {
		set(r, "target", str(target))
		set(r, "link", str(link))
		perm := r.NewField(fieldOf(r, "dirPerm")).Message()
		set(perm, "perm", protoreflect.ValueOfUint32(0o755))
		set(r, "dirPerm", protoreflect.ValueOfMessage(perm))
		set(r, "createParent", protoreflect.ValueOfBool(false))
	})
	if err != nil {
		return fmt.Errorf("create symlink %s -> %s: %w", link, target, err)
	}
	return nil
}

// setTimes sets p's times to the millisecond (the client's Chtimes keeps
// whole seconds only).
func setTimes(ctx context.Context, nn *namenode, p string, atime, mtime time.Time) error {
	_, err := nn.call(ctx, "setTimes", "SetTimesRequestProto", "SetTimesResponseProto", func(r protoreflect.Message) {
		set(r, "src", str(p))
		set(r, "mtime", protoreflect.ValueOfUint64(uint64(mtime.UnixMilli())))
		set(r, "atime", protoreflect.ValueOfUint64(uint64(atime.UnixMilli())))
	})
	if err != nil {
		return fmt.Errorf("set times of %s: %w", p, err)
	}
	return nil
}

// CreateSymlink creates link -> target on c's cluster (link's parent
// must exist). The client has no call for it; tests and tools that build
// HDFS trees use this one.
func CreateSymlink(ctx context.Context, c *hdfs.Client, target, link string) error {
	nn, err := newNamenode(c)
	if err != nil {
		return err
	}
	return createSymlink(ctx, nn, target, link)
}
