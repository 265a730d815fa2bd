package mongodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/stratabackup/strata/sources"
)

// RestoreOptions say where and how Restore loads a version or a @diff.
type RestoreOptions struct {
	// Database is the target database (required: a version directory
	// does not name its database; the caller knows it from the object).
	Database string
	// Collection is the target collection; empty means the collectionName
	// recorded in metadata.json.
	Collection string
	// Drop drops the target collection first; otherwise documents are
	// merged into it (upserted by _id), which is also what makes a rerun
	// after a failure safe.
	Drop bool
	// NoIndexes skips recreating the indexes of metadata.json.
	NoIndexes bool
	// Workers is how many bulk writes run at once (default 4).
	Workers int
	// BatchSize is the number of documents per bulk write (default 1000).
	BatchSize int
	// Logger receives progress (default slog.Default).
	Logger *slog.Logger
}

// RestoreStats says what a restore did.
type RestoreStats struct {
	Documents int64 // documents written (inserted or replaced)
	Deleted   int64 // documents deleted by a @diff's deleted.json
	Indexes   int   // indexes created or already present
}

// Restore loads one version (or @diff) directory of a collection into the
// server at uri: it creates the collection with its options (or the view),
// upserts the .bson documents by _id in parallel unordered bulk writes,
// deletes the _ids of a diff's deleted.json and recreates the indexes of
// metadata.json (names, keys, unique and other options as recorded).
func Restore(ctx context.Context, uri string, files sources.VersionReader, opts RestoreOptions) (RestoreStats, error) {
	opts = opts.withDefaults()
	if opts.Database == "" {
		return RestoreStats{}, errors.New("restore: no target database given")
	}
	base, err := collectionBase(files)
	if err != nil {
		return RestoreStats{}, fmt.Errorf("restore: %w", err)
	}
	meta, err := readMetadata(ctx, files, base+metadataSuffix)
	if err != nil {
		return RestoreStats{}, fmt.Errorf("restore %s: %w", base, err)
	}
	client, err := connect(uri)
	if err != nil {
		return RestoreStats{}, err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	r := &restorer{files: files, base: base, meta: meta, opts: opts}
	r.coll = client.Database(opts.Database).Collection(r.targetName())
	if err := r.run(ctx); err != nil {
		return r.stats, fmt.Errorf("restore %s into %s.%s on %s: %w", base, opts.Database, r.coll.Name(), RedactURI(uri), err)
	}
	return r.stats, nil
}

func (o RestoreOptions) withDefaults() RestoreOptions {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func readMetadata(ctx context.Context, v sources.VersionReader, path string) (metadata, error) {
	rc, err := v.Open(ctx, path)
	if err != nil {
		return metadata{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return metadata{}, fmt.Errorf("read %s: %w", path, err)
	}
	return parseMetadata(b)
}

// restorer carries one restore's state.
type restorer struct {
	files sources.VersionReader
	base  string
	meta  metadata
	opts  RestoreOptions
	coll  *mongo.Collection
	stats RestoreStats
	// emptyAtStart: the target held no document when loading began (a
	// fresh or dropped collection), so batches are inserted without first
	// asking which _ids exist; that question costs a full scan per batch
	// on servers without filter pushdown (FerretDB v1).
	emptyAtStart bool
}

func (r *restorer) targetName() string {
	switch {
	case r.opts.Collection != "":
		return r.opts.Collection
	case r.meta.CollectionName != "":
		return r.meta.CollectionName
	}
	if raw, ok := sources.UnescapeName(r.base); ok {
		return raw
	}
	return r.base
}

func (r *restorer) run(ctx context.Context) error {
	if r.opts.Drop {
		if err := r.coll.Drop(ctx); err != nil {
			return fmt.Errorf("drop: %w", err)
		}
	}
	if r.meta.Type == "view" {
		return r.createView(ctx)
	}
	if err := r.create(ctx); err != nil {
		return err
	}
	err := r.coll.FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	r.emptyAtStart = errors.Is(err, mongo.ErrNoDocuments)
	if err := r.loadDocuments(ctx); err != nil {
		return err
	}
	if err := r.applyDeletes(ctx); err != nil {
		return err
	}
	if r.opts.NoIndexes {
		return nil
	}
	return r.createIndexes(ctx)
}

// create creates the collection with the recorded options; an existing
// collection is kept as it is (merge).
func (r *restorer) create(ctx context.Context) error {
	cmd := bson.D{{Key: "create", Value: r.coll.Name()}}
	if len(r.meta.Options) > 5 {
		elems, err := r.meta.Options.Elements()
		if err != nil {
			return fmt.Errorf("collection options: %w", err)
		}
		for _, e := range elems {
			cmd = append(cmd, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	err := r.coll.Database().RunCommand(ctx, cmd).Err()
	if err != nil && !isNamespaceExists(err) {
		return fmt.Errorf("create collection: %w", err)
	}
	return nil
}

func (r *restorer) createView(ctx context.Context) error {
	viewOn, _ := r.meta.Options.Lookup("viewOn").StringValueOK()
	pipeline := r.meta.Options.Lookup("pipeline")
	if viewOn == "" {
		return errors.New("view without viewOn in metadata.json")
	}
	var pipe interface{} = bson.A{}
	if pipeline.Type != 0 {
		pipe = pipeline
	}
	err := r.coll.Database().CreateView(ctx, r.coll.Name(), viewOn, pipe)
	if err != nil && !isNamespaceExists(err) {
		return fmt.Errorf("create view on %s: %w", viewOn, err)
	}
	return nil
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")
}
