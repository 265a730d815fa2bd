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
// about cassRowBytes each (a random text and a number).
const cassTableDef = " (k bigint, c int, v text, n bigint, PRIMARY KEY (k, c))"

// ensureCassData writes rows rows with seed into strata_bench.rows, unless
// the table already holds them (recorded in strata_bench.meta).
func ensureCassData(ctx context.Context, rows int64, seed uint64) error {
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
	_ = s.Query("SELECT rows, seed FROM "+cassKS+".meta WHERE k = 'data'").WithContext(ctx).Scan(&have, &haveSeed)
	if have == rows && haveSeed == int64(seed) {
		logf("cassandra: reusing %d rows in %s.%s", rows, cassKS, cassTable)
		return nil
	}
	if err := s.Query("TRUNCATE " + cassKS + "." + cassTable).WithContext(ctx).Exec(); err != nil {
		return err
	}
	start := time.Now()
	if err := writeCassRows(ctx, s, rows, seed); err != nil {
		return err
	}
	logf("cassandra: wrote %d rows in %s", rows, time.Since(start).Round(time.Second))
	return s.Query("INSERT INTO "+cassKS+".meta (k, rows, seed) VALUES ('data', ?, ?)", rows, int64(seed)).WithContext(ctx).Exec()
}

// writeCassRows writes the rows, one unlogged batch per partition, 64 at
// a time.
func writeCassRows(ctx context.Context, s *gocql.Session, rows int64, seed uint64) error {
	parts := (rows + cassRowsPerPK - 1) / cassRowsPerPK
	ch := make(chan int64)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				if err := writeCassPartition(ctx, s, k, min(cassRowsPerPK, rows-k*cassRowsPerPK), seed); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for k := int64(0); k < parts && ctx.Err() == nil && len(errs) == 0; k++ {
		ch <- k
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

func writeCassPartition(ctx context.Context, s *gocql.Session, k, n int64, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, uint64(k)))
	b := s.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
	buf := make([]byte, 60)
	for c := range n {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		b.Query("INSERT INTO "+cassKS+"."+cassTable+" (k, c, v, n) VALUES (?, ?, ?, ?)", k, int(c), base64.StdEncoding.EncodeToString(buf), int64(r.Uint64()))
	}
	return s.ExecuteBatch(b)
}
