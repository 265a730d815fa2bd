// Package daemon runs strata unattended: it backs up what the config's
// policies say when they say it, runs restores, retention (forget and
// prune) and checks as jobs, keeps the store mounted, and tells admins
// what is protected and what went wrong (alerts, metrics). Every
// workflow it runs lives in daemon/engine, which the CLI calls as well:
// the daemon adds scheduling, persistence (daemon/joblog), the API
// (daemon/api) and alerts (daemon/webhook), never a second
// implementation of a backup, restore, diff or prune.
//
// Schedules are derived from stored state: each policy's last run is in
// the job log, so a daemon that was down runs a missed backup once at
// start, not once per missed interval; jobs that were running when the
// daemon died are found in the log and run again.
package daemon
