// Package e2e holds end-to-end tests of the strata command and its mount:
// each test builds nothing itself but runs the binary that TestMain builds
// once, against its own store and catalog under t.TempDir(), exactly as a
// user would (init, backup, versions, mount, restore, check, forget, prune,
// index rebuild), and checks the bytes, names and metadata that come back.
//
// Tests that need FUSE skip (or fail under CI=true) through
// integration/harness when /dev/fuse is missing or mounting is not
// permitted. The 1 GiB round trip, the kill -9 test (1.5 GiB) and prune
// beside a backup (768 MiB) are skipped under -short. STRATA_E2E_BIN=path
// runs the tests against a prebuilt binary instead of building one.
package e2e
