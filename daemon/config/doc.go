// Package config reads and validates the daemon's one YAML file: stores,
// clusters (a registered source kind and its options, secrets only by
// reference), policies (which objects, how often, how long to keep, where
// to), the mount, the API and the webhooks. Every error names the file,
// the line and the key at fault, e.g.
//
//	strata.yaml:14: policies[1].interval: "5x": not a duration
//
// Cluster options are checked against the kind's registered Options
// (sources.Kinds), so a kind added later is configured without a change
// here.
package config
