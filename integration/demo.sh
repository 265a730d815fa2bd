#!/usr/bin/env bash
# make demo: a local store, sample data, three versions with changes in
# between, the mounted tree, a @diff, and a cp -r restore verified by
# checksum. Everything lives under $STRATA_DEMO_DIR (default /tmp/strata-demo)
# and is recreated on each run.
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA="$PWD/bin/strata"
DEMO="${STRATA_DEMO_DIR:-/tmp/strata-demo}"
MNT="$DEMO/mnt"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cleanup() {
  if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [ -n "${MOUNT_PID:-}" ] && kill -0 "$MOUNT_PID" 2>/dev/null; then
    kill -TERM "$MOUNT_PID"; wait "$MOUNT_PID" 2>/dev/null || true
  fi
  mountpoint -q "$MNT" 2>/dev/null && umount "$MNT" 2>/dev/null || true
}
trap cleanup EXIT

if [ ! -e /dev/fuse ]; then
  echo "demo: /dev/fuse is missing: the mount cannot work on this machine" >&2
  exit 1
fi
mountpoint -q "$MNT" 2>/dev/null && umount "$MNT" || true
rm -rf "$DEMO"
mkdir -p "$DEMO/data/app/logs" "$DEMO/data/app/conf" "$MNT"
export STRATA_STORE="$DEMO/store" STRATA_CACHE="$DEMO/cache"

say "sample data: text, random bytes, many small files, a hostile name"
python3 - "$DEMO/data/app" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
words = "order customer shipped paid refund invoice cart sku warehouse".split()
with open(os.path.join(root, "logs/orders.log"), "w") as f:
    for i in range(200000):
        f.write(f"{i} {rnd.choice(words)} {rnd.randint(1, 10**6)} {rnd.choice(words)}\n")
with open(os.path.join(root, "blob.bin"), "wb") as f:
    f.write(rnd.randbytes(8 << 20))
for i in range(500):
    with open(os.path.join(root, "conf", f"setting-{i:03d}.conf"), "w") as f:
        f.write(f"key{i} = {rnd.random()}\n")
with open(os.path.join(root.encode(), b"odd\x01name\xff.txt"), "w") as f:
    f.write("a file whose name has a control character and invalid UTF-8\n")
PY
ln -s logs/orders.log "$DEMO/data/app/current.log"
du -sh "$DEMO/data/app"

say "1. init a store and take the first version"
run "$STRATA" init
run "$STRATA" backup posix --cluster demo --db files app="$DEMO/data/app"

say "2. change things: append to the log, edit a setting, delete one, add one"
sleep 1
echo "200000 order 42 paid" >> "$DEMO/data/app/logs/orders.log"
echo "key7 = changed" > "$DEMO/data/app/conf/setting-007.conf"
rm "$DEMO/data/app/conf/setting-100.conf"
echo "new" > "$DEMO/data/app/conf/new.conf"
run "$STRATA" backup posix --cluster demo --db files app="$DEMO/data/app"

say "3. one more change and a third version"
sleep 1
head -c 1048576 /dev/urandom > "$DEMO/data/app/conf/extra.bin"
run "$STRATA" backup posix --cluster demo --db files app="$DEMO/data/app"
run "$STRATA" versions

say "mount every version read-only"
"$STRATA" mount "$MNT" &
MOUNT_PID=$!
for _ in $(seq 1 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { echo "demo: mount did not appear" >&2; exit 1; }
T=$MNT/demo/files/app
run ls -l "$T"
V1=$(ls "$T" | grep -m1 '^20')
V2=$(ls "$T" | grep '^20' | sed -n 2p)
run ls -l "$T/latest/"
printf '$ ls %s | head -5\n' "$T/latest/conf"; ls "$T/latest/conf" | head -5 || true
run ls -l "$T/@diff/$V1..$V2/conf/"
run cat "$T/@diff/$V1..$V2/.deleted"
run tail -n 2 "$T/$V2/logs/orders.log"
printf '$ touch %s/latest/x   # read-only\n' "$T"
touch "$T/latest/x" 2>&1 | sed 's/^/  /' || true

say "restore with cp -r and verify by checksum"
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
links() { (cd "$1" && find . -type l -printf '%p -> %l\n' | sort); }
NFILES=$(sums "$DEMO/data/app" | wc -l)
NLINKS=$(links "$DEMO/data/app" | wc -l)
run cp -r "$T/latest/." "$DEMO/restored-cp"
# cp sees names as the mount shows them (hostile bytes escaped as %XX), so
# compare contents here; `strata restore` below brings back the raw names.
if cmp -s <(sums "$DEMO/data/app" | cut -c1-64 | sort) <(sums "$DEMO/restored-cp" | cut -c1-64 | sort); then
  echo "cp -r: sha256 of all $NFILES regular files match the source ($NLINKS symlinks copied as links)"
else
  echo "demo: cp -r restore differs from the source" >&2; exit 1
fi
run "$STRATA" restore demo/files/app/latest "$DEMO/restored"
if cmp -s <(sums "$DEMO/data/app") <(sums "$DEMO/restored") && cmp -s <(links "$DEMO/data/app") <(links "$DEMO/restored"); then
  echo "strata restore: names and sha256 of all $NFILES files and the targets of all $NLINKS symlinks match the source ($((NFILES + NLINKS)) entries, as versions counts them)"
else
  diff <(sums "$DEMO/data/app") <(sums "$DEMO/restored"); echo "demo: restore differs from the source" >&2; exit 1
fi

say "unmount"
kill -TERM "$MOUNT_PID"; wait "$MOUNT_PID" || true
MOUNT_PID=
mountpoint -q "$MNT" && { echo "demo: still mounted" >&2; exit 1; }
echo "unmounted $MNT. The store stays at $STRATA_STORE; mount it again with:"
echo "  STRATA_STORE=$STRATA_STORE STRATA_CACHE=$STRATA_CACHE bin/strata mount $MNT"

say "the daemon: a policy every 20s on the demo data, for up to a minute"
API=127.0.0.1:${STRATA_DEMO_PORT:-7879}
cat > "$DEMO/strata.yaml" <<YAML
state_dir: $DEMO/daemon
api: {listen: "$API"}
stores:
  demo: {location: $STRATA_STORE}
clusters:
  demo:
    kind: posix
    options: {db: files, root: [app=$DEMO/data/app]}
policies:
  - {name: app, cluster: demo, objects: [files/app], interval: 20s, retention: {keep_last: 10}}
YAML
run "$STRATA" daemon check-config "$DEMO/strata.yaml"
api() { curl -fsS "http://$API$1"; }
count() { api "/api/versions?object=demo/files/app" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
"$STRATA" daemon --config "$DEMO/strata.yaml" 2> "$DEMO/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do api /api/stores >/dev/null 2>&1 && break; sleep 0.1; done
BEFORE=$(count)
wait_versions() { for i in $(seq 1 60); do [ "$(count)" -ge "$1" ] && return 0; sleep 1; done
  echo "demo: no scheduled version within a minute" >&2; cat "$DEMO/daemon.log" >&2; exit 1; }
wait_versions $((BEFORE + 1))
echo "versions of demo/files/app: $BEFORE before the daemon, $(count) after its first scheduled run (a policy that never ran runs at once)"
echo "200001 order 43 shipped" >> "$DEMO/data/app/logs/orders.log"
echo "appended a line to logs/orders.log; the next run is due 20s after the first"
T0=$SECONDS
wait_versions $((BEFORE + 2))
echo "a scheduled version with the change appeared $((SECONDS - T0))s later:"
printf '$ curl http://%s/api/objects\n' "$API"; api /api/objects
printf '$ curl http://%s/api/jobs?kind=backup&limit=1   # (some fields)\n' "$API"
api "/api/jobs?kind=backup&limit=1" | python3 -c 'import json,sys
for j in json.load(sys.stdin):
    print(json.dumps({k: j.get(k) for k in ("id", "kind", "policy", "reason", "state", "started", "ended", "progress", "versions")}, indent=2))'
printf '$ curl -s http://%s/metrics | grep ^strata_object\n' "$API"; api /metrics | grep '^strata_object' || true
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
DAEMON_PID=
echo "daemon stopped; run it yourself with: bin/strata daemon --config $DEMO/strata.yaml"
