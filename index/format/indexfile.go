package format

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratabackup/strata/backends"
)

// IndexFile is an indexes/<id> object: which chunks a backup session (or a
// prune) put into which packs. zstd-compressed JSON.
type IndexFile struct {
	Packs []IndexPack `json:"packs"`
}

// IndexPack is one pack of an index file and the blobs it holds.
type IndexPack struct {
	ID    ID         `json:"id"`
	Blobs []PackBlob `json:"blobs"`
}

// ReadIndexFile reads and decodes the index file name.
func ReadIndexFile(ctx context.Context, be backends.Backend, name string) (IndexFile, error) {
	var idx IndexFile
	data, err := ReadRange(ctx, be, name, 0, -1)
	if err != nil {
		return idx, err
	}
	if err := unzstdJSON(data, &idx); err != nil {
		return idx, fmt.Errorf("index %s: %w", name, err)
	}
	return idx, nil
}

// ReadManifest reads and decodes the manifest name.
func ReadManifest(ctx context.Context, be backends.Backend, name string) (*Manifest, error) {
	data, err := ReadRange(ctx, be, name, 0, -1)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := unzstdJSON(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	return &m, nil
}

// Version is what the catalog and callers know of a manifest stored as
// name.
func (m *Manifest) Version(name string) Version {
	return Version{
		Object: ObjectRef{Cluster: string(m.Object.Cluster), Database: string(m.Object.Database), Table: string(m.Object.Table)},
		Time:   m.Time.UTC(), Kind: m.Kind, Name: name, Stats: m.Stats, Meta: m.Meta, Warnings: m.Warnings, Root: m.Root,
		FileList: m.FileList.Refs(),
	}
}

// EncodeIndexFile encodes an index file as stored: zstd-compressed JSON
// (metaEncoder).
func EncodeIndexFile(f IndexFile) ([]byte, error) { return zstdJSON(metaEncoder(), f) }

// EncodeManifest encodes a manifest as stored: zstd-compressed JSON,
// read back by the same decoder as index files.
func EncodeManifest(m *Manifest) ([]byte, error) { return zstdJSON(manifestEncoder(), m) }

func zstdJSON(e encoder, v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	out, ok := e.encode(nil, buf.Bytes())
	if !ok {
		return nil, fmt.Errorf("compress %d bytes of JSON: zstd failed", buf.Len())
	}
	return out, nil
}

// unzstdJSON decodes compressed JSON; failures wrap ErrUndecodable (the
// stored object is damaged).
func unzstdJSON(data []byte, v any) error {
	raw, err := decoder().DecodeAll(data, nil)
	if err != nil {
		return fmt.Errorf("decompress: %w: %w", err, ErrUndecodable)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %w", err, ErrUndecodable)
	}
	return nil
}
