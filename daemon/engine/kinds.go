package engine

// The source kinds this build knows. Each kind registers itself (a
// factory from configuration, and optionally a Differ and a Loader) in its
// package's init; adding a kind is one line here.
import (
	_ "github.com/stratabackup/strata/sources/cassandra"
	_ "github.com/stratabackup/strata/sources/hdfs"
	_ "github.com/stratabackup/strata/sources/mongodb"
	_ "github.com/stratabackup/strata/sources/posix"
	_ "github.com/stratabackup/strata/sources/relational"
)
