package format

import "maps"

// RecordsEqual reports whether a and b encode to the same file list line:
// a backup reuses an unchanged entry's line from the previous list instead
// of encoding it again (most entries of a re-backup are unchanged). Every
// field of FileRecord is compared; TestRecordsEqualSeesEveryField keeps
// it so when a field is added.
func RecordsEqual(a, b FileRecord) bool {
	return a.Path == b.Path && a.Type == b.Type && a.Mode == b.Mode &&
		a.ModTime.Equal(b.ModTime) && a.Size == b.Size && a.Target == b.Target &&
		a.Fingerprint == b.Fingerprint && ownersEqual(a.Owner, b.Owner) &&
		maps.Equal(a.Attrs, b.Attrs) && a.HardLink == b.HardLink && a.Nlink == b.Nlink &&
		chunksEqual(a.Chunks, b.Chunks)
}

func ownersEqual(a, b *mowner) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func chunksEqual(a, b chunkList) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
