// Package hdfs backs up HDFS directories (the HDFS source) and loads
// versions back into HDFS (`strata restore --to-hdfs`).
//
// A source is one cluster (a NameNode address, or HADOOP_CONF_DIR) and a
// user; its objects are configured directories, named
// <cluster>/<database>/<relative dir> as DESIGN.md says, several per
// cluster, globs allowed.
//
// Consistency: when a directory or one of its ancestors is snapshottable,
// a backup run creates one HDFS snapshot of that root (named
// strata.<unix seconds>.<pid>.<host>), reads every object under it from
// the snapshot, and deletes the snapshot when the run ends, failed or not;
// a strata snapshot left by a killed run is deleted by the next run.
// Elsewhere the tree is read live: the version's metadata says
// fuzzy=true and lists the files that changed while they were copied.
//
// Change detection happens at the source, before a byte is read: a file
// whose length, mtime, file id and block list (block id, generation stamp,
// length) equal the previous version's is kept by reference; a file that
// only grew, whose earlier blocks kept their ids and generation stamps,
// has its old bytes referenced (Writer.AddSpans) and only the new ones
// read; a file of unchanged length whose HDFS checksum (MD5 of the blocks'
// MD5 of CRC32C, computed by the DataNodes from their checksum files)
// equals the one computed locally when it was last read is kept too.
// Everything else is read again. Bytes read from DataNodes are counted in
// the manifest (bytes_read).
//
// Each block is read once, from one replica: the client picks a replica
// and fails over to the next when a DataNode fails mid-read. Several files
// are read at once, and each file's next megabytes are fetched while the
// current ones are chunked.
//
// Entries keep what HDFS keeps: owner and group names (Entry.Owner),
// permissions, mtime, and in Entry.Attrs "hdfs.atime" (unix milliseconds),
// "hdfs.replication", "hdfs.blocksize", "acl" (the aclspec text
// `hdfs dfs -setfacl` takes) and "xattr.<namespace>.<name>". Empty
// directories and symlinks are entries like any other.
//
// The client, github.com/colinmarc/hdfs/v2, does not wrap every NameNode
// call this needs (listings with block locations, ACLs, replication,
// symlinks); nn.go reaches its connection for those.
package hdfs
