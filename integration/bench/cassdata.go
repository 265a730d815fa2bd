package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gocql/gocql"
)

// cassTableDef is the generated table: partitions of cassRowsPerPK rows of
// -cass-row-bytes each (keys, a random text and a number).
const cassTableDef = " (k bigint, c int, v text, n bigint, PRIMARY KEY (k, c))"

// ensureCassData writes rows rows of rowBytes with seed into
// strata_bench.rows, unless the table already holds them (recorded in
// strata_bench.meta).
func ensureCassData(ctx context.Context, rows int64, rowBytes int, seed uint64) error {
	cl := gocql.NewCluster("127.0.0.1", "127.0.0.2", "127.0.0.3")
	cl.Timeout = 60 * time.Second
	cl.Consistency = gocql.Quorum
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	s, err := cl.CreateSession()
	if err != nil {
		return fmt.Errorf("connect to cassandra: %w", err)
	}
	defer s.Close()
	for _, st := range []string{
		"CREATE KEYSPACE IF NOT EXISTS " + cassKS + " WITH replication = {'class':'SimpleStrategy','replication_factor':3}",
		"CREATE TABLE IF NOT EXISTS " + cassKS + "." + cassTable + cassTableDef,
		"CREATE TABLE IF NOT EXISTS " + cassKS + ".meta (k text PRIMARY KEY, rows bigint, seed bigint)",
	} {
		if err := s.Query(st).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
	}
	var have, haveSeed int64
	key := fmt.Sprintf("data-%d", rowBytes)
	_ = s.Query("SELECT rows, seed FROM "+cassKS+".meta WHERE k = ?", key).WithContext(ctx).Scan(&have, &haveSeed)
	if have == rows && haveSeed == int64(seed) {
		logf("cassandra: reusing %d rows in %s.%s", rows, cassKS, cassTable)
		return nil
	}
	if err := s.Query("TRUNCATE " + cassKS + "." + cassTable).WithContext(ctx).Exec(); err != nil {
		return err
	}
	start := time.Now()
	if err := s.Query("TRUNCATE " + cassKS + ".meta").WithContext(ctx).Exec(); err != nil {
		return err
	}
	if err := writeCassRows(ctx, s, rows, rowBytes, seed); err != nil {
		return err
	}
	logf("cassandra: wrote %d rows in %s", rows, time.Since(start).Round(time.Second))
	return s.Query("INSERT INTO "+cassKS+".meta (k, rows, seed) VALUES (?, ?, ?)", key, rows, int64(seed)).WithContext(ctx).Exec()
}

// writeCassRows writes the rows, one unlogged batch per partition, 64 at
// a time.
func writeCassRows(ctx context.Context, s *gocql.Session, rows int64, rowBytes int, seed uint64) error {
	parts := (rows + cassRowsPerPK - 1) / cassRowsPerPK
	ch := make(chan int64)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				if err := writeCassRetry(ctx, s, k, min(cassRowsPerPK, rows-k*cassRowsPerPK), rowBytes, seed); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	start, last := time.Now(), time.Now()
	for k := int64(0); k < parts && ctx.Err() == nil && len(errs) == 0; k++ {
		ch <- k
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			logf("cassandra: %d of %d rows written, %.0f rows/s", k*cassRowsPerPK, rows, float64(k*cassRowsPerPK)/time.Since(start).Seconds())
		}
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// writeCassRetry writes one partition, again after a timeout or an
// overloaded node: a loaded 2-core machine times out some writes of a
// long load, and the batch writes the same values again.
func writeCassRetry(ctx context.Context, s *gocql.Session, k, n int64, rowBytes int, seed uint64) error {
	var err error
	for try := range 10 {
		if err = writeCassPartition(ctx, s, k, n, rowBytes, seed); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(try+1) * time.Second)
	}
	return fmt.Errorf("write partition %d: %w", k, err)
}

// writeCassPartition writes partition k's n rows in one unlogged batch:
// keys and a number take 20 bytes, the text (base64 of random bytes) the
// rest of rowBytes.
func writeCassPartition(ctx context.Context, s *gocql.Session, k, n int64, rowBytes int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, uint64(k)))
	b := s.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
	buf := make([]byte, (rowBytes-20)*3/4)
	for c := range n {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		b.Query("INSERT INTO "+cassKS+"."+cassTable+" (k, c, v, n) VALUES (?, ?, ?, ?)", k, int(c), base64.StdEncoding.EncodeToString(buf), int64(r.Uint64()))
	}
	return s.ExecuteBatch(b)
}
