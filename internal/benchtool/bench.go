package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

const (
	apiKey   = "bench-key"
	username = "bench"
)

type bench struct {
	c        config
	log      io.Writer
	admin    *pgxpool.Pool
	template string
	seq      int
	large    *world
	small    *world
	rows     []transform.Ticket // the large world's open list, parsed
	timeBin  string             // /usr/bin/time, when installed (exact peak RSS)
}

// world is a simulator serving over HTTP on a local port.
type world struct {
	srv   *fakeapi.Server
	hs    *http.Server
	url   string
	open  int
	total int
	games []int64
}

func newBench(ctx context.Context, c config, log io.Writer) (*bench, error) {
	b := &bench{c: c, log: log}
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		b.timeBin = "/usr/bin/time"
	} else {
		fmt.Fprintln(log, "# /usr/bin/time not installed: peak RSS is polled from /proc (may miss a short final peak)")
	}
	pool, err := pgxpool.New(ctx, c.databaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	b.admin = pool
	var fsync string
	if err := pool.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		b.close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if fsync != "on" {
		fmt.Fprintf(log, "# warning: fsync is %s: the figures will not be honest\n", fsync)
	}
	b.template = fmt.Sprintf("bench_tmpl_%d", os.Getpid())
	if err := b.exec(ctx, "CREATE DATABASE "+pgx.Identifier{b.template}.Sanitize()); err != nil {
		b.close()
		return nil, err
	}
	tp, err := pgxpool.New(ctx, withDB(c.databaseURL, b.template))
	if err != nil {
		b.close()
		return nil, err
	}
	defer tp.Close()
	m, err := load.NewMigrator(tp, zerolog.Nop())
	if err != nil {
		b.close()
		return nil, err
	}
	_, err = m.Up(ctx)
	_ = m.Close()
	if err != nil {
		b.close()
		return nil, fmt.Errorf("migrate template: %w", err)
	}
	return b, nil
}

func (b *bench) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, w := range []*world{b.large, b.small} {
		if w != nil {
			_ = w.hs.Close()
		}
	}
	if b.template != "" {
		_ = b.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{b.template}.Sanitize()+" WITH (FORCE)")
	}
	b.admin.Close()
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.log, "# %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func (b *bench) exec(ctx context.Context, sql string, args ...any) error {
	if _, err := b.admin.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", strings.SplitN(sql, " (", 2)[0], err)
	}
	return nil
}

// checkpoint flushes dirty buffers so that no run pays for the previous
// run's writes.
func (b *bench) checkpoint(ctx context.Context) error { return b.exec(ctx, "CHECKPOINT") }

// database is a fresh, migrated database for one run.
type database struct {
	name, url string
	pool      *pgxpool.Pool
}

func (b *bench) newDB(ctx context.Context) (*database, error) {
	b.seq++
	name := fmt.Sprintf("bench_%d_%d", os.Getpid(), b.seq)
	if err := b.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{b.template}.Sanitize()); err != nil {
		return nil, err
	}
	u := withDB(b.c.databaseURL, name)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		return nil, err
	}
	return &database{name: name, url: u, pool: pool}, nil
}

func (b *bench) dropDB(d *database) {
	if d == nil {
		return
	}
	d.pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		b.logf("drop %s: %v", d.name, err)
	}
}

func (d *database) count(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := d.pool.QueryRow(ctx, sql, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", sql, err)
	}
	return n, nil
}

// withDB replaces the database of a postgres:// URL or key=value DSN.
func withDB(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	return strings.TrimSpace(dsn) + " dbname=" + db
}

// startWorld builds a simulator of n tickets, all in the open list, and
// serves it on a free local port.
func (b *bench) startWorld(n int) (*world, error) {
	t0 := time.Now()
	srv := fakeapi.New(fakeapi.Options{Seed: b.c.seed, Tickets: n, OpenShare: 1, APIKey: apiKey, Username: username})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	w := &world{srv: srv, hs: hs, url: "http://" + ln.Addr().String(), open: len(srv.Open())}
	games := map[int64]bool{}
	for _, t := range srv.All() {
		w.total++
		games[t.GameID] = true
	}
	for g := range games {
		w.games = append(w.games, g)
	}
	slices.Sort(w.games)
	b.logf("simulator of %d tickets (%d open, %d games) at %s in %.1fs", w.total, w.open, len(w.games), w.url, since(t0))
	return w, nil
}

// fetchRows reads the world's open list through extract and transform, as a
// sync does, for the loader figures.
func (b *bench) fetchRows(ctx context.Context, w *world) ([]transform.Ticket, error) {
	t0 := time.Now()
	client, err := extract.New(extract.Config{BaseURL: w.url, Username: username, APIKey: apiKey})
	if err != nil {
		return nil, err
	}
	rows := make([]transform.Ticket, 0, w.open)
	for page, err := range client.ScanOpen(ctx, extract.ScanOptions{}) {
		if err != nil {
			return nil, err
		}
		for _, raw := range page.Tickets {
			t, err := transform.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("simulator ticket rejected: %w", err)
			}
			rows = append(rows, t)
		}
	}
	b.logf("fetched and parsed %d tickets in %.1fs", len(rows), since(t0))
	return rows, nil
}

// tableColumns are the columns of tickets the ceiling COPY writes: every
// column a merge writes (vanished_at stays NULL in both).
var tableColumns = []string{
	"id", "achievement_id", "achievement_title", "achievement_description", "achievement_type",
	"points", "badge_name", "achievement_author", "game_id", "game_title", "game_icon",
	"console_name", "reported_at", "report_type", "report_type_code", "report_state",
	"report_state_code", "hardcore", "report_notes", "reported_by", "resolved_at",
	"resolved_by", "rom_hash", "emulator", "emulator_core", "emulator_version", "raw",
	"first_seen_at", "updated_at",
}

// ceiling COPYs every row into an empty table created LIKE tickets
// INCLUDING ALL (same columns, defaults, constraints and indexes).
func (b *bench) ceiling(ctx context.Context) (sample, error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dropDB(db)
	if _, err := db.pool.Exec(ctx, "CREATE TABLE copy_ceiling (LIKE tickets INCLUDING ALL)"); err != nil {
		return sample{}, err
	}
	if err := b.checkpoint(ctx); err != nil {
		return sample{}, err
	}
	now := time.Now()
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(b.rows) {
			return nil, nil
		}
		i++
		return ceilingRow(&b.rows[i-1], now), nil
	})
	t0 := time.Now()
	var n int64
	if b.c.ceilBatch > 0 {
		for lo := 0; lo < len(b.rows); lo += b.c.ceilBatch {
			hi := min(lo+b.c.ceilBatch, len(b.rows))
			k, err := db.pool.CopyFrom(ctx, pgx.Identifier{"copy_ceiling"}, tableColumns, &sliceSource{rows: b.rows[lo:hi], now: now})
			if err != nil {
				return sample{}, fmt.Errorf("copy: %w", err)
			}
			n += k
		}
	} else {
		var err error
		n, err = db.pool.CopyFrom(ctx, pgx.Identifier{"copy_ceiling"}, tableColumns, src)
		if err != nil {
			return sample{}, fmt.Errorf("copy: %w", err)
		}
	}
	secs := since(t0)
	return sample{rows: n, seconds: secs}, nil
}

func ceilingRow(t *transform.Ticket, now time.Time) []any {
	return []any{
		t.ID, t.AchievementID, t.AchievementTitle, t.AchievementDescription, t.AchievementType,
		t.Points, t.BadgeName, t.AchievementAuthor, t.GameID, t.GameTitle, t.GameIcon,
		t.ConsoleName, t.ReportedAt, string(t.ReportType), t.ReportTypeCode, string(t.ReportState),
		t.ReportStateCode, t.Hardcore, t.ReportNotes, t.ReportedBy, t.ResolvedAt,
		t.ResolvedBy, t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion, []byte(t.Raw),
		now, now,
	}
}

type sliceSource struct {
	rows []transform.Ticket
	now  time.Time
	i    int
}

func (s *sliceSource) Next() bool             { s.i++; return s.i <= len(s.rows) }
func (s *sliceSource) Values() ([]any, error) { return ceilingRow(&s.rows[s.i-1], s.now), nil }
func (s *sliceSource) Err() error             { return nil }

// loader merges every row into an empty database in batches, then merges
// them all again unchanged.
func (b *bench) loader(ctx context.Context) (fresh, same sample, err error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return sample{}, sample{}, err
	}
	defer b.dropDB(db)
	store := load.New(db.pool, zerolog.Nop())
	pass := func() (sample, load.Counts, error) {
		runID, _, err := store.StartRun(ctx, load.KindSync, "bench")
		if err != nil {
			return sample{}, load.Counts{}, err
		}
		if err := b.checkpoint(ctx); err != nil {
			return sample{}, load.Counts{}, err
		}
		var total load.Counts
		t0 := time.Now()
		for lo := 0; lo < len(b.rows); lo += b.c.batch {
			hi := min(lo+b.c.batch, len(b.rows))
			c, err := store.Merge(ctx, runID, load.Batch{Tickets: b.rows[lo:hi], Listed: true})
			if err != nil {
				return sample{}, total, err
			}
			total.Add(c)
		}
		return sample{rows: int64(len(b.rows)), seconds: since(t0)}, total, nil
	}
	fresh, c, err := pass()
	if err != nil {
		return fresh, same, err
	}
	if c.Inserted != int64(len(b.rows)) {
		return fresh, same, fmt.Errorf("first merge inserted %d of %d", c.Inserted, len(b.rows))
	}
	if n, err := db.count(ctx, "SELECT count(*) FROM ticket_history"); err != nil || n != int64(len(b.rows)) {
		return fresh, same, fmt.Errorf("ticket_history holds %d rows, want %d (%v)", n, len(b.rows), err)
	}
	xid, err := db.count(ctx, "SELECT txid_current()")
	if err != nil {
		return fresh, same, err
	}
	same, c, err = pass()
	if err != nil {
		return fresh, same, err
	}
	if c.Unchanged != int64(len(b.rows)) {
		return fresh, same, fmt.Errorf("second merge: %+v, want all unchanged", c)
	}
	same.extra = map[string]float64{}
	for _, table := range []string{"tickets", "ticket_history", "ticket_sightings"} {
		// A row written after xid carries a newer xmin (a fresh cluster:
		// no wraparound to mind).
		n, err := db.count(ctx, "SELECT count(*) FROM "+table+" WHERE xmin::text::bigint > $1", xid%(1<<32))
		if err != nil {
			return fresh, same, err
		}
		same.extra[table] = float64(n)
	}
	return fresh, same, nil
}

// dropHistoryFKs removes the foreign keys of ticket_history and
// ticket_sightings in a run's database: the what-if figures measure what
// they cost (each is a row-level trigger, checked once per row written).
func dropHistoryFKs(ctx context.Context, db *database) error {
	rows, err := db.pool.Query(ctx, `SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', conrelid::regclass::text, conname)
		FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('ticket_history'::regclass, 'ticket_sightings'::regclass)`)
	if err != nil {
		return err
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := db.pool.Exec(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// loaderWithoutFKs is the first pass of loader on a database without the
// foreign keys of ticket_history and ticket_sightings.
func (b *bench) loaderWithoutFKs(ctx context.Context) (sample, error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dropDB(db)
	if err := dropHistoryFKs(ctx, db); err != nil {
		return sample{}, err
	}
	store := load.New(db.pool, zerolog.Nop())
	runID, _, err := store.StartRun(ctx, load.KindSync, "bench")
	if err != nil {
		return sample{}, err
	}
	if err := b.checkpoint(ctx); err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	for lo := 0; lo < len(b.rows); lo += b.c.batch {
		hi := min(lo+b.c.batch, len(b.rows))
		if _, err := store.Merge(ctx, runID, load.Batch{Tickets: b.rows[lo:hi], Listed: true}); err != nil {
			return sample{}, err
		}
	}
	return sample{rows: int64(len(b.rows)), seconds: since(t0)}, nil
}

// upsertTicketsOnly is the reference technique alone: per batch,
// COPY into a temporary table and one INSERT … SELECT … ON CONFLICT DO
// UPDATE … WHERE changed, into tickets only (no history, no sightings). It
// shows where the loader's technique sits before its extra work.
func (b *bench) upsertTicketsOnly(ctx context.Context) (sample, error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dropDB(db)
	cols := tableColumns[:len(tableColumns)-2] // without first_seen_at, updated_at
	var set, old, new strings.Builder
	for i, c := range cols[1:] {
		if i > 0 {
			set.WriteString(", ")
			old.WriteString(", ")
			new.WriteString(", ")
		}
		fmt.Fprintf(&set, "%s = EXCLUDED.%s", c, c)
		fmt.Fprintf(&old, "t.%s", c)
		fmt.Fprintf(&new, "EXCLUDED.%s", c)
	}
	list := strings.Join(cols, ", ")
	upsert := fmt.Sprintf(`INSERT INTO tickets AS t (%s, first_seen_at, updated_at)
		SELECT %s, now(), now() FROM stage
		ON CONFLICT (id) DO UPDATE SET %s, updated_at = EXCLUDED.updated_at
		WHERE (%s) IS DISTINCT FROM (%s)`, list, list, set.String(), old.String(), new.String())
	if err := b.checkpoint(ctx); err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	now := time.Now()
	for lo := 0; lo < len(b.rows); lo += b.c.batch {
		hi := min(lo+b.c.batch, len(b.rows))
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL jit = off; CREATE TEMP TABLE stage (LIKE tickets) ON COMMIT DROP`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage"}, tableColumns, &sliceSource{rows: b.rows[lo:hi], now: now}); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, upsert)
			return err
		})
		if err != nil {
			return sample{}, fmt.Errorf("tickets-only upsert: %w", err)
		}
	}
	return sample{rows: int64(len(b.rows)), seconds: since(t0)}, nil
}

// child is one run of the ratickets binary.
type child struct {
	seconds float64
	rssKiB  int64
	out     string
}

// runBinary runs the ratickets binary and measures its wall time and peak
// RSS. The RSS comes from /usr/bin/time when it is installed: Go starts
// children with vfork, and Linux then counts the parent's own peak RSS
// (this process holds the simulator and 200k parsed tickets) in the child's
// ru_maxrss, so the rusage of a direct child is useless here. Without
// /usr/bin/time, /proc/PID/status VmHWM is polled every 10 ms instead.
func (b *bench) runBinary(ctx context.Context, dbURL string, w *world, args ...string) (child, error) {
	name, argv := b.c.bin, args
	rssFile := ""
	if b.timeBin != "" {
		f, err := os.CreateTemp("", "benchtool-rss-*")
		if err != nil {
			return child{}, err
		}
		rssFile = f.Name()
		_ = f.Close()
		defer os.Remove(rssFile)
		name, argv = b.timeBin, append([]string{"-f", "%M", "-o", rssFile, b.c.bin}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL, "RA_BASE_URL="+w.url, "RA_USERNAME="+username,
		"RA_API_KEY="+apiKey, "RA_RPS=0", "RATICKETS_LOG_LEVEL=warn", "RATICKETS_LOG_FORMAT=json")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return child{}, err
	}
	done, peak := make(chan struct{}), make(chan int64, 1)
	go func() {
		var max int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for rssFile == "" {
			if kib := vmHWM(cmd.Process.Pid); kib > max {
				max = kib
			}
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
		<-done
		peak <- max
	}()
	err := cmd.Wait()
	secs := since(t0)
	close(done)
	polled := <-peak
	if err != nil {
		return child{}, fmt.Errorf("%s %s: %w\n%s", b.c.bin, strings.Join(args[:1], " "), err, out.String())
	}
	c := child{seconds: secs, out: out.String(), rssKiB: polled}
	if rssFile != "" {
		raw, err := os.ReadFile(rssFile)
		if err != nil {
			return c, err
		}
		f := strings.Fields(string(raw))
		if len(f) == 0 {
			return c, fmt.Errorf("no RSS from %s", b.timeBin)
		}
		if c.rssKiB, err = strconv.ParseInt(f[len(f)-1], 10, 64); err != nil {
			return c, fmt.Errorf("RSS from %s: %q", b.timeBin, raw)
		}
	}
	return c, nil
}

// vmHWM reads a process's peak RSS (KiB) from /proc; 0 when unknown.
func vmHWM(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// syncRun syncs w into an empty database and then syncs again with nothing
// changed; it returns both runs and the requests of the quiet one.
func (b *bench) syncRun(ctx context.Context, w *world, quiet, noFKs bool) (first, second sample, err error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return first, second, err
	}
	defer b.dropDB(db)
	if noFKs {
		if err := dropHistoryFKs(ctx, db); err != nil {
			return first, second, err
		}
	}
	if err := b.checkpoint(ctx); err != nil {
		return first, second, err
	}
	before := w.srv.Requests()
	c, err := b.runBinary(ctx, db.url, w, "sync")
	if err != nil {
		return first, second, err
	}
	after := w.srv.Requests()
	n, err := db.count(ctx, "SELECT count(*) FROM tickets")
	if err != nil {
		return first, second, err
	}
	if n != int64(w.open) {
		return first, second, fmt.Errorf("sync stored %d tickets, the list holds %d:\n%s", n, w.open, c.out)
	}
	first = sample{rows: int64(w.open), seconds: c.seconds, extra: map[string]float64{
		"rss_mib":  float64(c.rssKiB) / 1024,
		"requests": float64(after["list"] - before["list"] + after["ticket"] - before["ticket"]),
	}}
	if !quiet {
		return first, second, nil
	}
	if err := b.checkpoint(ctx); err != nil {
		return first, second, err
	}
	before = w.srv.Requests()
	c, err = b.runBinary(ctx, db.url, w, "sync")
	if err != nil {
		return first, second, err
	}
	after = w.srv.Requests()
	second = sample{rows: int64(w.open), seconds: c.seconds, extra: map[string]float64{
		"rss_mib":        float64(c.rssKiB) / 1024,
		"list_requests":  float64(after["list"] - before["list"]),
		"ticket_lookups": float64(after["ticket"] - before["ticket"]),
		"retries":        float64(after["fault"] - before["fault"]),
	}}
	return first, second, nil
}

// backfillRun backfills every game of w into an empty database.
func (b *bench) backfillRun(ctx context.Context, w *world) (sample, error) {
	db, err := b.newDB(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dropDB(db)
	ids := make([]string, len(w.games))
	for i, g := range w.games {
		ids[i] = strconv.FormatInt(g, 10)
	}
	if err := b.checkpoint(ctx); err != nil {
		return sample{}, err
	}
	before := w.srv.Requests()
	c, err := b.runBinary(ctx, db.url, w, "backfill", "--games", strings.Join(ids, ","))
	if err != nil {
		return sample{}, err
	}
	after := w.srv.Requests()
	n, err := db.count(ctx, "SELECT count(*) FROM tickets")
	if err != nil {
		return sample{}, err
	}
	if n != int64(w.total) {
		return sample{}, fmt.Errorf("backfill stored %d tickets, the world holds %d:\n%s", n, w.total, c.out)
	}
	return sample{rows: n, seconds: c.seconds, extra: map[string]float64{
		"rss_mib":  float64(c.rssKiB) / 1024,
		"requests": float64(after["game"] - before["game"]),
	}}, nil
}

// all runs every wanted figure in interleaved rounds and prints the medians.
func (b *bench) all(ctx context.Context, out io.Writer) error {
	c := b.c
	needRows := c.want("ceiling") || c.want("load") || c.want("sync") || c.want("backfill") || c.want("whatif")
	var err error
	if needRows || c.want("rss") {
		if b.large, err = b.startWorld(c.tickets); err != nil {
			return err
		}
	}
	if needRows {
		if b.rows, err = b.fetchRows(ctx, b.large); err != nil {
			return err
		}
	}
	if c.want("rss") {
		if b.small, err = b.startWorld(c.small); err != nil {
			return err
		}
	}
	var ceil, loadNew, loadSame, syncNew, syncSame, backfill, rssSmall []sample
	var loadNoFK, syncNoFK, ticketsOnly []sample
	for r := 1; r <= c.runs; r++ {
		if needRows { // every ratio needs the ceiling of the same round
			s, err := b.ceiling(ctx)
			if err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
			ceil = append(ceil, s)
			b.logf("round %d: copy ceiling %.0f rows/s", r, s.rate())
		}
		if c.want("load") {
			f, s, err := b.loader(ctx)
			if err != nil {
				return fmt.Errorf("loader: %w", err)
			}
			loadNew, loadSame = append(loadNew, f), append(loadSame, s)
			b.logf("round %d: load new %.0f rows/s, unchanged %.0f rows/s", r, f.rate(), s.rate())
		}
		if c.want("sync") || c.want("rss") {
			f, s, err := b.syncRun(ctx, b.large, true, false)
			if err != nil {
				return fmt.Errorf("sync: %w", err)
			}
			syncNew, syncSame = append(syncNew, f), append(syncSame, s)
			b.logf("round %d: sync new %.0f rows/s (%.1f MiB), unchanged %.0f rows/s", r, f.rate(), f.extra["rss_mib"], s.rate())
		}
		if c.want("backfill") {
			s, err := b.backfillRun(ctx, b.large)
			if err != nil {
				return fmt.Errorf("backfill: %w", err)
			}
			backfill = append(backfill, s)
			b.logf("round %d: backfill %.0f rows/s", r, s.rate())
		}
		if c.want("whatif") {
			s, err := b.upsertTicketsOnly(ctx)
			if err != nil {
				return err
			}
			ticketsOnly = append(ticketsOnly, s)
			if s, err = b.loaderWithoutFKs(ctx); err != nil {
				return fmt.Errorf("loader without foreign keys: %w", err)
			}
			loadNoFK = append(loadNoFK, s)
			f, _, err := b.syncRun(ctx, b.large, false, true)
			if err != nil {
				return fmt.Errorf("sync without foreign keys: %w", err)
			}
			syncNoFK = append(syncNoFK, f)
			b.logf("round %d: what-if: tickets-only upsert %.0f rows/s; without history/sightings foreign keys: load %.0f rows/s, sync %.0f rows/s",
				r, ticketsOnly[len(ticketsOnly)-1].rate(), s.rate(), f.rate())
		}
		if c.want("rss") {
			s, _, err := b.syncRun(ctx, b.small, false, false)
			if err != nil {
				return fmt.Errorf("sync small: %w", err)
			}
			rssSmall = append(rssSmall, s)
			b.logf("round %d: sync of %d: %.1f MiB", r, c.small, s.extra["rss_mib"])
		}
	}

	var ceilRate float64
	if len(ceil) > 0 {
		m := median(ceil)
		ceilRate = m.rate()
		line(out, "copy_ceiling", "rows", m.rows, "runs", len(ceil), "seconds", m.seconds, "rows_per_s", ceilRate)
	}
	ratioLine := func(name string, ss []sample, target float64, extra ...any) {
		if len(ss) == 0 {
			return
		}
		m := median(ss)
		kv := []any{"rows", m.rows, "runs", len(ss), "seconds", m.seconds, "rows_per_s", m.rate()}
		if ceilRate > 0 {
			ratio := m.rate() / ceilRate
			kv = append(kv, "ceiling_rows_per_s", ceilRate, "ratio", ratio)
			if target > 0 {
				kv = append(kv, "target", target, "met", yes(ratio >= target))
			}
		}
		line(out, name, append(kv, extra...)...)
	}
	if len(loadSame) > 0 {
		ratioLine("load_new", loadNew, 0.70, "batch", c.batch)
		ratioLine("load_unchanged", loadSame, 0.75, "batch", c.batch,
			"tickets_rows_written", int64(medianOf(loadSame, "tickets")),
			"history_rows_written", int64(medianOf(loadSame, "ticket_history")),
			"sightings_rows_written", int64(medianOf(loadSame, "ticket_sightings")))
	}
	if len(syncNew) > 0 {
		ratioLine("sync_new", syncNew, 0.50, "requests", int64(medianOf(syncNew, "requests")),
			"peak_rss_mib", medianOf(syncNew, "rss_mib"))
		ratioLine("sync_unchanged", syncSame, 0, "peak_rss_mib", medianOf(syncSame, "rss_mib"))
	}
	if len(backfill) > 0 {
		ratioLine("backfill_new", backfill, 0.50, "requests", int64(medianOf(backfill, "requests")),
			"peak_rss_mib", medianOf(backfill, "rss_mib"))
	}
	// What-if figures: not targets, the measured cost of the extra work.
	ratioLine("whatif_upsert_tickets_only", ticketsOnly, 0, "batch", c.batch)
	ratioLine("whatif_load_new_without_fks", loadNoFK, 0, "batch", c.batch)
	ratioLine("whatif_sync_new_without_fks", syncNoFK, 0)
	if len(rssSmall) > 0 && len(syncNew) > 0 {
		small, large := medianOf(rssSmall, "rss_mib"), medianOf(syncNew, "rss_mib")
		line(out, "rss_sync_small", "tickets", rssSmall[0].rows, "runs", len(rssSmall), "peak_rss_mib", small)
		growth := large/small - 1
		line(out, "rss_sync_large", "tickets", syncNew[0].rows, "runs", len(syncNew), "peak_rss_mib", large,
			"target_mib", 64.0, "growth_vs_small", growth, "target_growth", 0.10,
			"met", yes(large <= 64 && growth <= 0.10))
	}
	if len(syncSame) > 0 {
		open := syncSame[0].rows
		minReq := math.Ceil(float64(open) / 100)
		req := medianOf(syncSame, "list_requests")
		lookups := medianOf(syncSame, "ticket_lookups")
		line(out, "requests_quiet_sync", "open", open, "runs", len(syncSame), "requests", int64(req),
			"ceil_open_per_100", int64(minReq), "ratio", req/minReq, "target", 1.3,
			"ticket_lookups", int64(lookups), "met", yes(req/minReq <= 1.3 && lookups == 0))
	}
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
