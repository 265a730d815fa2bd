package hdfs

import (
	"io"
	"reflect"
	"testing"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestClientInternals fails loudly, without a server, when an upgrade of
// colinmarc/hdfs (pinned at v2.4.0) moves what nn.go reaches by
// reflection: the client's NameNode connection and its Execute method,
// the reader fields openListed fills, and the protocol messages and
// fields the source builds by name. The public API has no call for
// listings with block locations, ACLs, symlinks or millisecond times,
// and opening a listed file through it costs two NameNode calls.
func TestClientInternals(t *testing.T) {
	t.Run("namenode connection", func(t *testing.T) {
		f, ok := reflect.TypeOf(hdfs.Client{}).FieldByName("namenode")
		if !ok || f.Type.Kind() != reflect.Pointer {
			t.Fatalf("hdfs.Client has no pointer field namenode (found %v)", f.Type)
		}
		m, ok := f.Type.MethodByName("Execute")
		want := reflect.TypeOf(func(string, proto.Message, proto.Message) error { return nil })
		if !ok || m.Type.NumIn() != 4 || m.Type.In(1) != want.In(0) || m.Type.In(2) != want.In(1) || m.Type.In(3) != want.In(2) || m.Type.NumOut() != 1 || m.Type.Out(0) != want.Out(0) {
			t.Fatalf("the NameNode connection's Execute is %v, want func(string, proto.Message, proto.Message) error", m.Type)
		}
	})
	t.Run("openListed", func(t *testing.T) {
		st, err := newMessage("HdfsFileStatusProto")
		if err != nil {
			t.Fatal(err)
		}
		set(st, "path", protoreflect.ValueOfBytes([]byte("f")))
		set(st, "length", protoreflect.ValueOfUint64(0))
		set(st, "fileType", protoreflect.ValueOfEnum(fileTypeFile))
		status := asStatus(st)
		if status == nil {
			t.Fatalf("HdfsFileStatusProto is %T, not the client's *hdfs.FileStatus", st.Interface())
		}
		fr, err := openListed(&hdfs.Client{}, "/d/f", status)
		if err != nil {
			t.Fatal(err)
		}
		if fr.Stat().Name() != "f" || fr.Stat().Size() != 0 || fr.Stat().IsDir() {
			t.Errorf("openListed: stat %q size %d dir %v; want f, 0, false", fr.Stat().Name(), fr.Stat().Size(), fr.Stat().IsDir())
		}
		if n, err := fr.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("read of an empty listed file: %d, %v; want 0, EOF", n, err)
		}
	})
	for _, tc := range []struct {
		msg    string
		fields []string
	}{
		{"GetListingRequestProto", []string{"src", "startAfter", "needLocation"}},
		{"GetListingResponseProto", []string{"dirList"}},
		{"DirectoryListingProto", []string{"partialListing", "remainingEntries"}},
		{"HdfsFileStatusProto", []string{"fileType", "path", "length", "locations", "symlink", "flags"}},
		{"GetSnapshottableDirListingRequestProto", nil},
		{"GetSnapshottableDirListingResponseProto", []string{"snapshottableDirList"}},
		{"SnapshottableDirectoryListingProto", []string{"snapshottableDirListing"}},
		{"SnapshottableDirectoryStatusProto", []string{"dirStatus", "parent_fullpath"}},
		{"GetFileLinkInfoRequestProto", []string{"src"}},
		{"GetFileLinkInfoResponseProto", []string{"fs"}},
		{"GetAclStatusRequestProto", []string{"src"}},
		{"GetAclStatusResponseProto", []string{"result"}},
		{"AclStatusProto", []string{"entries"}},
		{"AclEntryProto", []string{"type", "scope", "permissions", "name"}},
		{"ModifyAclEntriesRequestProto", []string{"src", "aclSpec"}},
		{"ModifyAclEntriesResponseProto", nil},
		{"CreateSymlinkRequestProto", []string{"target", "link", "dirPerm", "createParent"}},
		{"CreateSymlinkResponseProto", nil},
		{"SetTimesRequestProto", []string{"src", "mtime", "atime"}},
		{"SetTimesResponseProto", nil},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			m, err := newMessage(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.fields {
				if m.Descriptor().Fields().ByName(protoreflect.Name(f)) == nil {
					t.Errorf("%s has no field %s", tc.msg, f)
				}
			}
		})
	}
}
