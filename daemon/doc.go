// Package daemon will hold what runs strata unattended: the scheduler,
// retention policies, the REST API (loopback by default, a token when it
// is not), metrics and the web UI. It wires index, fs and the sources
// together the way cmd/strata does for one command. Nothing is here yet:
// the CLI covers backups, mounts and restores today.
package daemon
