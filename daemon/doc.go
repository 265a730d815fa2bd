// Package daemon will hold what runs strata unattended: the scheduler,
// retention policies, the REST API (loopback by default, a token when it
// is not), metrics and the web UI. Every workflow it runs lives in
// daemon/engine, which the CLI calls as well: the daemon adds scheduling,
// persistence, the API and alerts, never a second implementation of a
// backup, restore, diff or prune.
package daemon
