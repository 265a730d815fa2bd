package engine

import "github.com/stratabackup/strata/backends"

// Location is the store's location for the API and messages, without
// secrets: a config location such as
// ":s3,access_key_id=A,secret_access_key=S:bucket" carries credentials,
// so it is never shown raw. Once the store is open it is the backend's
// own redaction; before that, or while the store is being opened, the
// same redaction of the configured string.
func (e *Engine) Location() string {
	if e.mu.TryLock() {
		st := e.st
		e.mu.Unlock()
		if st != nil {
			return st.Backend().Location()
		}
	}
	return backends.RedactLocation(e.opts.Store)
}
