package backends

import (
	"net/url"
	"sort"
	"strings"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"
)

// RedactLocation is how a store location may be shown (APIs, logs) when
// no Backend is open for it: what Backend.Location shows once one is.
func RedactLocation(location string) string { return redactLocation(location) }

// redactLocation returns location with every connection-string parameter
// that may be a secret removed: parameters the backend marks as passwords
// or sensitive, parameters it does not know, and user info inside URLs.
// It never fails; an unparsable location is reduced to "<invalid location>".
func redactLocation(location string) string {
	parsed, err := fspath.Parse(location)
	if err != nil {
		return "<invalid location>"
	}
	if parsed.Name == "" {
		return location
	}
	path := parsed.Path
	if cutURL(parsed) {
		path = "<path hidden: badly quoted parameter>"
	}
	var opts fs.Options
	if info, _, _, _, err := fs.ParseRemote(location); err == nil {
		opts = info.Options
	}
	var b strings.Builder
	b.WriteString(parsed.Name)
	for _, key := range safeKeys(parsed.Config, opts) {
		b.WriteString("," + key + "=" + quoteValue(redactURL(parsed.Config[key])))
	}
	b.WriteString(":" + path)
	return b.String()
}

// safeKeys returns, sorted, the keys of params that are known, non-secret
// options of the backend.
func safeKeys(params map[string]string, opts fs.Options) []string {
	var keys []string
	for key := range params {
		if isPublicOption(key, opts) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys
}

// identifying lists options rclone marks sensitive (it redacts them from
// shared configs) that name where data lives rather than grant access, so
// messages keep them.
var identifying = map[string]bool{"host": true, "user": true, "account": true, "endpoint": true, "url": true}

// isPublicOption reports whether the option named key may be shown.
func isPublicOption(key string, opts fs.Options) bool {
	name := strings.ReplaceAll(key, "-", "_")
	for _, o := range opts {
		if o.Name == name {
			return !o.IsPassword && (!o.Sensitive || identifying[name])
		}
	}
	return false
}

// cutURL reports whether a connection string has an unquoted URL value
// that rclone cut at its colon, as in ":s3,endpoint=http://host:9000:b",
// which parses as endpoint "http" and path "//host:9000:b": the path then
// holds the remaining parameters, secrets included.
func cutURL(parsed fspath.Parsed) bool {
	return parsed.Name != "" && len(parsed.Config) > 0 && strings.HasPrefix(parsed.Path, "//")
}

// redactURL drops the user info from a URL-valued parameter.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil || u.Host == "" {
		return v
	}
	u.User = nil
	return u.String()
}

// quoteValue quotes a connection-string value the way rclone parses it.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, `,:="'`) {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
}
