// Package engine runs strata's workflows: back up a set of objects of a
// source, restore a version or a range to a directory or into a
// database, diff, forget and prune, check, rebuild the catalog, and keep
// a mount's view fresh. The CLI (cmd/strata) and the daemon both call it,
// so a workflow is written once: commands only parse flags and print.
//
// Every workflow takes a context and stops promptly when it ends; long
// ones report progress through a callback (Events), never by printing.
// Errors caused by what the caller asked (a bad name, an unknown kind, a
// missing setting) wrap ErrBadInput so that callers can tell them from
// failures of the store or the source.
package engine
