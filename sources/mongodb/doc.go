// Package mongodb backs up MongoDB collections (and anything speaking its
// wire protocol, such as FerretDB) in mongodump's directory layout, so that
// a version directory on the mount is read unchanged by mongorestore and
// bsondump:
//
//	<collection>.bson           the documents, concatenated raw BSON, in _id order,
//	                            byte for byte as the server returned them
//	<collection>.metadata.json  {"options":{…},"indexes":[…],"uuid":"…",
//	                            "collectionName":"…","type":"collection"}, canonical
//	                            Extended JSON, fields in mongodump's order
//
// A @diff directory (Diff) adds <collection>.deleted.json, a JSON array of
// the removed _ids in canonical Extended JSON; its .bson holds the documents
// added or changed. Restore applies either kind of directory.
//
// The .bson file is handed to the store as spans (see spanner): the
// previous version's .bson is read alongside the server's documents, both
// in _id order, and each run of byte-identical documents becomes a
// reference to where the previous version stored it. Only added or
// changed documents are stored, packed together into full-size chunks that
// compress well; the cost of a version is its changed documents plus about
// two references per change, whatever the document size.
//
// Large collections are read in parallel by _id ranges, each range sorted
// by the server; FerretDB sorts in memory, so ranges also bound the
// server's memory. Without snapshot reads (FerretDB, standalone servers)
// the copy is fuzzy and the version says so.
package mongodb
