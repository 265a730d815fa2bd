package index

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratabackup/strata/index/format"
)

// upgradeFormat moves the store's config to FormatVersion if its
// format is older than need (every backup now needs format 4: its file
// list is stored as chunks). It goes straight to FormatVersion rather than
// to need: a format means "what this code writes", and one step is one
// config write. Put is atomic; a crash before it leaves the older store
// without the new records in it, after it a FormatVersion store. s.cfg
// keeps the format the store was opened with; fmtUpgraded says this
// process (or another, as found) moved it to FormatVersion since.
func (s *Store) upgradeFormat(ctx context.Context, need int) error {
	s.fmtMu.Lock()
	defer s.fmtMu.Unlock()
	if s.cfg.Format >= need || s.fmtUpgraded {
		return nil
	}
	cur, err := format.LoadConfig(ctx, s.be)
	if err != nil {
		return fmt.Errorf("upgrade store format: %w", err)
	}
	if cur.Format >= FormatVersion { // another process did it
		s.fmtUpgraded = true
		return nil
	}
	if cur.Format >= need { // another (older) process moved it far enough
		return nil
	}
	from := cur.Format
	cur.Format = FormatVersion
	data, _ := json.MarshalIndent(cur, "", "  ")
	if err := s.be.Put(ctx, "config", data); err != nil {
		return fmt.Errorf("upgrade store %s from format %d to %d: %w", s.be.Location(), from, FormatVersion, err)
	}
	s.log.Info("store format upgraded: older strata versions will refuse it", "store", s.be.Location(), "from", from, "format", FormatVersion)
	s.fmtUpgraded = true
	return nil
}
