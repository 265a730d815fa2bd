package engine

import (
	"github.com/rclone/rclone/fs/fspath"
)

// Location is the store's location for the API and messages, without
// secrets: a config location such as
// ":s3,access_key_id=A,secret_access_key=S:bucket" carries credentials,
// so it is never shown raw. Once the store is open it is the backend's
// own redaction (known public parameters kept); before that, or while the
// store is being opened, HideParameters.
func (e *Engine) Location() string {
	if e.mu.TryLock() {
		st := e.st
		e.mu.Unlock()
		if st != nil {
			return st.Backend().Location()
		}
	}
	return HideParameters(e.opts.Store)
}

// HideParameters returns a store location with every connection-string
// parameter of an rclone remote dropped, kept only to name the backend
// and path: ":s3,provider=Minio,secret_access_key=S:bucket/dir" becomes
// ":s3,<parameters hidden>:bucket/dir". It needs no network and no
// knowledge of the backend, so it cannot fail to hide a secret it does
// not recognise. A path rclone read out of an unquoted URL parameter
// (":s3,endpoint=http://h:9000,secret=S:b" parses with path
// "//h:9000,secret=S:b") is hidden too.
func HideParameters(location string) string {
	p, err := fspath.Parse(location)
	if err != nil {
		return "<invalid location>"
	}
	if p.Name == "" {
		return location
	}
	name, path := p.Name, p.Path
	if len(p.Config) > 0 {
		name += ",<parameters hidden>"
	}
	if len(p.Config) > 0 && len(path) >= 2 && path[:2] == "//" {
		path = "<path hidden>"
	}
	return name + ":" + path
}
