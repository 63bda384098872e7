package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// databases hands each run a fresh migrated database, a copy of a template
// migrated once (the way internal/pgtest does it for tests).
type databases struct {
	adminURL, template string
	admin              *pgx.Conn // for CHECKPOINT
	seq                int
}

func newDatabases(ctx context.Context, adminURL string, log func(string, ...any)) (*databases, error) {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	d := &databases{adminURL: adminURL, admin: admin, template: fmt.Sprintf("bench_tmpl_%d", os.Getpid())}
	var fsync string
	if err := admin.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		d.close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if fsync != "on" {
		log("warning: fsync is %s: the figures will not be honest", fsync)
	}
	u, err := pgtest.CreateDB(ctx, adminURL, d.template, "")
	if err == nil {
		err = pgtest.Migrate(ctx, u)
	}
	if err != nil {
		d.close()
		return nil, fmt.Errorf("template: %w", err)
	}
	return d, nil
}

func (d *databases) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = pgtest.DropDB(ctx, d.adminURL, d.template)
	_ = d.admin.Close(ctx)
}

// database is one run's database.
type database struct {
	name, url string
	conn      *pgx.Conn
}

// create makes a fresh migrated database; drop drops it. Checkpoint before
// a measurement, so that no run pays for the previous run's writes.
func (d *databases) create(ctx context.Context) (*database, error) {
	d.seq++
	name := fmt.Sprintf("bench_%d_%d", os.Getpid(), d.seq)
	u, err := pgtest.CreateDB(ctx, d.adminURL, name, d.template)
	if err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	db := &database{name: name, url: u}
	if db.conn, err = pgx.Connect(ctx, u); err != nil {
		d.drop(db)
		return nil, err
	}
	return db, nil
}

func (d *databases) checkpoint(ctx context.Context) error {
	_, err := d.admin.Exec(ctx, "CHECKPOINT")
	return err
}

func (d *databases) drop(db *database) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if db.conn != nil {
		_ = db.conn.Close(ctx)
	}
	_ = pgtest.DropDB(ctx, d.adminURL, db.name)
}
