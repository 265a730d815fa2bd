package config

// Example is a commented config, printed by `strata daemon
// example-config` and shown in the README; a test keeps it valid.
const Example = `# strata daemon config. Check it with: strata daemon check-config strata.yaml

# Where the daemon keeps its job log (a Pebble database): jobs, their
# progress and outcome, alerts and policies made through the API.
state_dir: /var/lib/strata

# The REST API (and /metrics). Loopback by default; any other address
# needs a bearer token read from token_file. TLS is optional.
api:
  listen: 127.0.0.1:7878
  # token_file: /etc/strata/api-token
  # tls_cert: /etc/strata/tls.crt
  # tls_key: /etc/strata/tls.key

# Stores: a local directory or an rclone remote (remote:path). max_jobs
# bounds the jobs running on one store at once (default 2).
stores:
  main:
    location: /srv/strata-store
    # cache_dir: /var/cache/strata
    max_jobs: 2

# Clusters: a source kind and its options, as ` + "`strata backup KIND --help`" + `
# lists them (a kind's arguments go under the key its help names: root
# for posix, dir for hdfs). Secrets (passwords, connection strings with credentials) are
# never written here: give them as {env: VAR} or {file: PATH}. max_jobs
# bounds the jobs reading one cluster at once (default 1).
clusters:
  shop:
    kind: mongodb
    options:
      uri: {env: STRATA_MONGODB_URI}
  files:
    kind: posix
    options:
      db: etc
      root: [etc=/etc]

# Policies: which objects (DB[/TABLE] shell patterns; none = all), how
# often (an interval, the RPO: 15m, 6h, 1d; or a 5-field cron
# expression), how long to keep (forget's rules, applied after each
# backup, followed by a prune), and into which store (default: the only
# one). grace is how late the newest version may be before the RPO counts
# as missed (default a quarter of the RPO).
policies:
  - name: shop-hourly
    cluster: shop
    objects: ["shop/*"]
    interval: 1h
    retention: {keep_last: 24, keep_daily: 7, keep_weekly: 4}
    store: main
  - name: etc-nightly
    cluster: files
    cron: "30 2 * * *"
    retention: {keep_daily: 30}

# Keep the store mounted (read-only) while the daemon runs.
# mount:
#   path: /mnt/strata
#   store: main

# Alerts (critical, error, warning, info) are POSTed as JSON to each
# webhook at or above its min_class, retried with backoff.
# webhooks:
#   - url: https://alerts.example.com/strata
#     min_class: warning
`
