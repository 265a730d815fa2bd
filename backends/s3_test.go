package backends_test

import (
	"testing"

	"github.com/stratabackup/strata/backends/backendtest"
)

func TestS3Conformance(t *testing.T) {
	addr := backendtest.StartS3(t, "strata-key", "strata-secret", "bucket")
	b := open(t, ":s3,provider=Rclone,endpoint='http://"+addr+"',access_key_id=strata-key,secret_access_key=strata-secret:bucket/repo")
	backendtest.Run(t, b)
}
