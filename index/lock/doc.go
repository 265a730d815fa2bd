// Package lock holds the store's locks on the backend, locks/<random id>:
// JSON objects saying who holds the store. A backup holds a shared lock
// for its whole run, prune an exclusive one, and each manifest write a
// commit lock for its object ("commit <object>"), so that two hosts never
// pick the same version name.
//
// It is separate from index because it depends on nothing but the backend
// (and index/format's object naming and reading): the rules of who waits
// for whom can be read (and tested) without the store or its catalog.
package lock
