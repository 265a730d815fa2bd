package hdfs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"reflect"
	"unsafe"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// namenode makes NameNode RPCs that colinmarc/hdfs does not wrap
// (getListing with block locations, getAclStatus, setAcl, setReplication,
// createSymlink, getSnapshottableDirListing). The client keeps its
// connection in an unexported field and its protocol messages in an
// internal package, so the connection is reached by reflection and the
// messages are built from the protobuf registry by their full names; both
// are pinned to the client version in go.mod, and TestClientInternals fails
// loudly should an upgrade move them.
type namenode struct {
	execute reflect.Value
}

// newNamenode finds c's NameNode connection.
func newNamenode(c *hdfs.Client) (*namenode, error) {
	v := reflect.ValueOf(c).Elem().FieldByName("namenode")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("hdfs client: no NameNode connection field (colinmarc/hdfs changed; pin v2.4.0)")
	}
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	m := v.MethodByName("Execute")
	if !m.IsValid() {
		return nil, fmt.Errorf("hdfs client: NameNode connection has no Execute method (colinmarc/hdfs changed; pin v2.4.0)")
	}
	return &namenode{execute: m}, nil
}

// newMessage returns an empty protocol message of the hadoop.hdfs package.
func newMessage(name string) (protoreflect.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("hadoop.hdfs." + name))
	if err != nil {
		return nil, fmt.Errorf("hdfs protocol message %s: %w", name, err)
	}
	return mt.New(), nil
}

// call runs method with a request whose fields set fills, and returns the
// response message. ctx is checked before the call only: the client's
// RPCs take no context.
func (n *namenode) call(ctx context.Context, method, reqName, respName string, set func(req protoreflect.Message)) (protoreflect.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, err := newMessage(reqName)
	if err != nil {
		return nil, err
	}
	resp, err := newMessage(respName)
	if err != nil {
		return nil, err
	}
	if set != nil {
		set(req)
	}
	out := n.execute.Call([]reflect.Value{reflect.ValueOf(method), reflect.ValueOf(req.Interface()), reflect.ValueOf(resp.Interface())})
	if e, _ := out[0].Interface().(error); e != nil {
		return nil, e
	}
	return resp, nil
}

// fieldOf returns m's field called name; it panics on an unknown name, a
// programming error that the tests catch.
func fieldOf(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic("hdfs protocol: " + string(m.Descriptor().FullName()) + " has no field " + name)
	}
	return fd
}

// get returns m's field name.
func get(m protoreflect.Message, name string) protoreflect.Value { return m.Get(fieldOf(m, name)) }

// set sets m's field name.
func set(m protoreflect.Message, name string, v protoreflect.Value) { m.Set(fieldOf(m, name), v) }

// str is a string value.
func str(s string) protoreflect.Value { return protoreflect.ValueOfString(s) }

// asStatus converts a HdfsFileStatusProto message to the client's type.
func asStatus(m protoreflect.Message) *hdfs.FileStatus {
	st, _ := m.Interface().(*hdfs.FileStatus)
	return st
}

// openListed returns a reader of the file name whose status (with block
// locations) a listing returned, without the two NameNode calls Open and
// the first Read would make again (getFileInfo, getBlockLocations): on a
// tree of small files they are most of a backup's NameNode load. It
// fills the reader's unexported fields as Open and getBlocks do.
func openListed(c *hdfs.Client, name string, st *hdfs.FileStatus) (*hdfs.FileReader, error) {
	fi := &hdfs.FileInfo{}
	fv := reflect.ValueOf(fi).Elem()
	fr := &hdfs.FileReader{}
	v := reflect.ValueOf(fr).Elem()
	err := errors.Join(
		setField(fv, "name", reflect.ValueOf(path.Base(name))),
		setField(fv, "status", reflect.ValueOf(st)),
		setField(v, "client", reflect.ValueOf(c)),
		setField(v, "name", reflect.ValueOf(name)),
		setField(v, "info", reflect.ValueOf(fi)),
	)
	if blocks := st.GetLocations().GetBlocks(); err == nil && blocks != nil {
		err = setField(v, "blocks", reflect.ValueOf(blocks))
	}
	if err != nil {
		return nil, fmt.Errorf("hdfs client: %w (colinmarc/hdfs changed; pin v2.4.0)", err)
	}
	return fr, nil
}

// setField sets v's (unexported) field name to val.
func setField(v reflect.Value, name string, val reflect.Value) error {
	f := v.FieldByName(name)
	if !f.IsValid() || !val.Type().AssignableTo(f.Type()) {
		return fmt.Errorf("no field %s of type %s in %s", name, val.Type(), v.Type())
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(val)
	return nil
}
