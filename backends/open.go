package backends

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configfile"
	"github.com/rclone/rclone/fs/fspath"
)

// defaultMemoryBucket is the bucket ":memory:" uses when the location names
// none, because the memory remote, like S3, keeps objects in buckets.
const defaultMemoryBucket = "strata"

var setupOnce sync.Once

// setupRclone prepares rclone's process-wide state once: the config file
// (RCLONE_CONFIG or rclone's default path) and quiet logging. rclone's
// default NOTICE level prints messages about partial files and config
// lookups on stderr, and its DEBUG level prints whole connection strings,
// secrets included; strata reports failures through returned errors instead.
// Set STRATA_RCLONE_LOG_LEVEL (DEBUG, INFO, NOTICE, ERROR) to see more.
func setupRclone() {
	setupOnce.Do(func() {
		if p := os.Getenv("RCLONE_CONFIG"); p != "" {
			if err := config.SetConfigPath(p); err != nil {
				fs.Errorf(nil, "RCLONE_CONFIG %q: %v", p, err)
			}
		}
		configfile.Install()
		ci := fs.GetConfig(context.Background())
		ci.LogLevel = fs.LogLevelError
		// rclone retries a request 10 times by default, and its S3
		// backend lets the AWS SDK retry each of those up to 10 times
		// more: an unreachable endpoint then took minutes to report.
		// strata retries whole operations itself (Retry, with a warning
		// each time), so a few low-level attempts are enough.
		ci.LowLevelRetries = lowLevelRetries
		if lvl := os.Getenv("STRATA_RCLONE_LOG_LEVEL"); lvl != "" {
			_ = ci.LogLevel.Set(lvl)
		}
	})
}

// lowLevelRetries is rclone's per-request retry count in strata.
const lowLevelRetries = 3

// Open returns the Backend at location: a local directory (an absolute or
// relative path, created on first Put), a remote from the user's rclone
// config ("remote:path"), or an on-the-fly remote such as
// ":s3,provider=Minio,endpoint=http://127.0.0.1:9000:bucket/dir" or
// ":memory:". Errors and Location() show the location without secrets.
func Open(ctx context.Context, location string) (Backend, error) {
	setupRclone()
	spec, err := normalizeLocation(location)
	if err != nil {
		return nil, err
	}
	safe := redactLocation(spec)
	if spec != location && strings.HasSuffix(spec, "/") && !strings.HasSuffix(location, "/") {
		safe = strings.TrimSuffix(safe, "/") // the slash Open added
	}
	// Listings report the store's upload time instead of fetching each
	// object's metadata (a HEAD per object on S3); objects never change, so
	// the two agree.
	ctx, ci := fs.AddConfig(ctx)
	ci.UseServerModTime = true
	f, err := fs.NewFs(ctx, spec)
	if err == fs.ErrorIsFile {
		return nil, fmt.Errorf("open backend %s: it is a file, not a directory", safe)
	}
	if err != nil {
		return nil, fmt.Errorf("open backend %s: %w", safe, err)
	}
	if f.Features().BucketBased && f.Root() == "" {
		return nil, fmt.Errorf("open backend %s: the location needs a bucket, e.g. %s", safe, strings.TrimSuffix(safe, ":")+":bucket/dir")
	}
	return newRemote(f, safe), nil
}

// normalizeLocation turns a local path into an absolute one (so Location
// stays meaningful after a chdir) and gives ":memory:" its default bucket.
func normalizeLocation(location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("open backend: empty location; give a directory or an rclone remote such as remote:path")
	}
	parsed, err := fspath.Parse(location)
	if err != nil {
		return "", fmt.Errorf("open backend %s: %w", redactLocation(location), err)
	}
	if parsed.Name == "" {
		abs, err := filepath.Abs(location)
		if err != nil {
			return "", fmt.Errorf("open backend %s: %w", location, err)
		}
		return abs, nil
	}
	if cutURL(parsed) {
		return "", fmt.Errorf("open backend %s: a parameter value containing ':' must be quoted, e.g. endpoint='http://127.0.0.1:9000'", redactLocation(location))
	}
	if parsed.Name == ":memory" && parsed.Path == "" {
		return location + defaultMemoryBucket, nil
	}
	if info, _, _, _, err := fs.ParseRemote(location); err == nil && bucketTypes[info.Name] && !strings.HasSuffix(location, "/") {
		// A trailing slash tells rclone the root is a directory. Without
		// it, bucket stores HEAD the root to see whether it is an object,
		// and call it one when the HEAD fails, e.g. on a network error.
		return location + "/", nil
	}
	return location, nil
}

// bucketTypes are the registered rclone backends that keep objects in
// buckets.
var bucketTypes = map[string]bool{"s3": true, "azureblob": true, "b2": true, "google cloud storage": true, "memory": true}
