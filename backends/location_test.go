package backends

import "testing"

func TestRedactLocation(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/var/backups/strata", "/var/backups/strata"},
		{"relative/dir", "relative/dir"},
		{":memory:strata", ":memory:strata"},
		{
			":s3,provider=Minio,endpoint='http://127.0.0.1:9000',access_key_id=AKID,secret_access_key=SECRET:bucket/dir",
			`:s3,endpoint="http://127.0.0.1:9000",provider=Minio:bucket/dir`,
		},
		{
			":s3,provider=Minio,endpoint=http://127.0.0.1:9000,secret_access_key=SECRET:bucket/dir",
			":s3,endpoint=http,provider=Minio:<path hidden: badly quoted parameter>",
		},
		{":sftp,host=example.com,user=bob,pass=OBSCURED,port=2222:dir", ":sftp,host=example.com,port=2222,user=bob:dir"},
		{`:webdav,url="https://bob:pw@example.com/dav":x`, `:webdav,url="https://example.com/dav":x`},
		{":s3,made_up_option=zz:b", ":s3:b"},
		{"notinconfig,secret=1:path", "notinconfig:path"},
		{":s3,provider=Minio:bucket:with:colons", ":s3,provider=Minio:bucket:with:colons"},
	}
	for _, c := range cases {
		if got := redactLocation(c.in); got != c.want {
			t.Errorf("redactLocation(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
