// Package relational backs up tables of relational databases (PostgreSQL,
// MariaDB/MySQL, SQL Server) as versions in each database's own bulk-load
// format, one dialect per database behind one small interface (server and
// snapshot in dialect.go). An object is <cluster>/<database>/<schema>.<table>
// (MySQL has no schemas: its schema is the database).
//
// A version directory holds:
//
//	schema.sql        the table's DDL, from the database's own tooling where it
//	                  exists (pg_dump --schema-only -t, SHOW CREATE TABLE)
//	<table>.copy      PostgreSQL: COPY text, what `\copy t from` reads
//	<table>.tsv       MariaDB/MySQL: LOAD DATA's default tab-separated text,
//	load.sql          with the exact LOAD DATA statement that loads it
//	<table>.bcp/.fmt  SQL Server: bcp character file and its format file
//
// A @diff directory holds the rows added or changed in the same format plus
// <table>.deleted, the keys of removed rows as lines of the same format
// (key columns only).
//
// Consistency: every table of one backup run is read at one point. For
// PostgreSQL the session exports a snapshot per database
// (pg_export_snapshot) that every worker imports at REPEATABLE READ; for
// MariaDB every worker starts a consistent-snapshot transaction while one
// connection holds FLUSH TABLES WITH READ LOCK for a moment (without the
// RELOAD privilege: one connection, and the version says so).
//
// Rows are read in primary-key order, large tables in parallel key ranges,
// and are one line each (both formats escape tabs and newlines). Between
// versions unchanged rows are not stored again: the previous version's file
// is indexed by key (a hash of the key fields → offset, length and a
// 128-bit hash of the whole line) and every row equal to its previous line
// becomes a range of the previous file for Writer.AddSpans. PostgreSQL
// reads less: a version records its snapshot (change_mark), and the next
// backup asks the server for whole rows only where xmin shows a change
// since, splicing them into the previous file in key order (changes.go,
// pg_changes.go); any doubt reads every row. MariaDB has no per-row
// version (only the binlog or system-versioned tables could say what
// changed): a table keyed by one integer is summed in blocks of key
// values instead, and the next backup asks the server for each block's
// checksum and reads only the blocks whose checksum changed (blocks.go,
// blocks_backup.go, my_blocks.go); other tables are read whole and
// compared row by row. A table without
// a primary key is keyed by its whole row, so it dedups the same way; the
// version's manifest says it has no key.
package relational
