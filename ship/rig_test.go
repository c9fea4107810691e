package ship_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/sqlite"
)

// centralSide starts the central side of a test: a real SeaweedFS (srv)
// with the bucket (its store) and a schema of a real PostgreSQL (its
// index), both closed when the test ends.
func centralSide(t *testing.T, bucket string) (srv *s3test.Server, store *s3.Store, central *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	srv = s3test.Start(t)
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL(bucket), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	central, err = postgres.Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { central.Close() })
	return srv, store, central
}

// sensorDir makes a sensor's data directory and opens its local index
// there, closed when the test ends.
func sensorDir(t *testing.T) (string, *sqlite.DB) {
	t.Helper()
	data := t.TempDir()
	local, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return data, local
}
