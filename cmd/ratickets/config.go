package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/redact"
)

// errUsage marks configuration errors (exit 2).
var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// dbFlags are the flags of every command that uses the database.
type dbFlags struct {
	DatabaseURL      string        `name:"database-url" envvar:"DATABASE_URL" placeholder:"URL" help:"PostgreSQL connection URL or keyword/value string; when empty, the standard PG* variables (PGHOST, PGUSER, PGPASSWORD, …) apply"`
	LockTimeout      time.Duration `name:"lock-timeout" envvar:"RATICKETS_LOCK_TIMEOUT" default:"1m" help:"longest wait for a table or row lock, per statement (PostgreSQL lock_timeout); 0 = no limit"`
	StatementTimeout time.Duration `name:"statement-timeout" envvar:"RATICKETS_STATEMENT_TIMEOUT" default:"15m" help:"longest run of one SQL statement (PostgreSQL statement_timeout); 0 = no limit"`
	LogFormat        string        `name:"log-format" envvar:"RATICKETS_LOG_FORMAT" default:"auto" help:"log format: auto (console on a terminal, JSON otherwise), json or console"`
	LogLevel         string        `name:"log-level" envvar:"RATICKETS_LOG_LEVEL" default:"info" help:"log level: debug, info, warn or error"`
}

// apiFlags are the flags of the commands that talk to the RA API.
type apiFlags struct {
	BaseURL        string        `name:"base-url" envvar:"RA_BASE_URL" default:"${default_base_url}" help:"RetroAchievements base URL"`
	Username       string        `name:"username" envvar:"RA_USERNAME" help:"your RetroAchievements username (sent as z)"`
	APIKey         string        `name:"api-key" envvar:"RA_API_KEY" placeholder:"KEY" help:"your RetroAchievements web API key (sent as y; never logged)"`
	APIKeyFile     string        `name:"api-key-file" envvar:"RA_API_KEY_FILE" placeholder:"PATH" help:"read the web API key from this file (e.g. a mounted secret; warns when group or others can read it)"`
	RPS            float64       `name:"rps" envvar:"RA_RPS" default:"1" help:"client-side rate limit in requests per second; 0 = unlimited (refused against the real site unless --allow-unlimited)"`
	MaxRetries     int           `name:"max-retries" envvar:"RA_MAX_RETRIES" default:"5" help:"retries per request on 429, 5xx, timeouts and malformed bodies"`
	Timeout        time.Duration `name:"timeout" envvar:"RA_TIMEOUT" default:"30s" help:"timeout of one HTTP request"`
	AllowUnlimited bool          `name:"allow-unlimited" envvar:"RA_ALLOW_UNLIMITED" help:"allow --rps 0 against the real RetroAchievements site"`
	AllowInsecure  bool          `name:"allow-insecure" envvar:"RA_ALLOW_INSECURE" help:"allow a plain http:// --base-url on a host that is not loopback (the key would travel in clear)"`
}

// key returns the key from --api-key or --api-key-file, and a warning when
// the file is readable by group or others.
func (a *apiFlags) key() (key, warning string, err error) {
	if a.APIKey != "" || a.APIKeyFile == "" {
		return a.APIKey, "", nil
	}
	b, err := os.ReadFile(a.APIKeyFile)
	if err != nil {
		return "", "", usageErr("--api-key-file: %v", errors.Unwrap(err))
	}
	if fi, err := os.Stat(a.APIKeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("the API key file is readable by group or others (mode %04o); chmod 600 it", fi.Mode().Perm())
	}
	return strings.TrimSpace(string(b)), warning, nil
}

// client validates the API flags and builds the API client; onAttempt,
// when not nil, observes every HTTP attempt.
func (a *apiFlags) client(key string, log zerolog.Logger, onAttempt func(extract.Attempt)) (*extract.Client, error) {
	base := strings.TrimRight(a.BaseURL, "/")
	host, err := checkBaseURL(base, a.AllowInsecure)
	switch {
	case key == "":
		return nil, usageErr("no API key: set --api-key, RA_API_KEY, --api-key-file or RA_API_KEY_FILE")
	case a.Username == "":
		return nil, usageErr("no username: set --username or RA_USERNAME")
	case a.RPS < 0 || math.IsNaN(a.RPS):
		return nil, usageErr("--rps must be 0 (unlimited) or more")
	case err != nil:
		return nil, err
	case a.RPS == 0 && under(host, "retroachievements.org") && !a.AllowUnlimited:
		return nil, usageErr("--rps 0 (unlimited) against the real site needs --allow-unlimited; the server answers bursts with 429")
	case a.MaxRetries < 0:
		return nil, usageErr("--max-retries must be 0 or more")
	case a.Timeout <= 0:
		return nil, usageErr("--timeout must be more than 0")
	}
	retries := a.MaxRetries
	if retries == 0 {
		retries = -1 // extract: 0 means its default; the flag's 0 means none
	}
	client, err := extract.New(extract.Config{
		BaseURL:    base,
		Username:   a.Username,
		APIKey:     key,
		RPS:        a.RPS,
		MaxRetries: retries,
		Timeout:    a.Timeout,
		UserAgent:  "ratickets/" + version() + " (+https://github.com/ratickets/ratickets)",
		Logger:     log.With().Str("stage", "extract").Logger(),
		OnAttempt:  onAttempt,
	})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return client, nil
}

// checkBaseURL returns the host of the API base URL, in lower case and
// without a trailing dot. It refuses plain http to a host that is not
// loopback, unless allowInsecure: the key is sent in the query string of
// every request.
func checkBaseURL(base string, allowInsecure bool) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return "", usageErr("--base-url: %q is not an http(s) URL", base)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	ip, ipErr := netip.ParseAddr(host)
	loopback := under(host, "localhost") || ipErr == nil && ip.IsLoopback()
	if strings.EqualFold(u.Scheme, "http") && !loopback && !allowInsecure {
		return "", usageErr("--base-url: plain http to %s would send the API key in clear; use https, or --allow-insecure", u.Hostname())
	}
	return host, nil
}

// under reports whether host is domain or a name under it.
func under(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// newLogger builds the one logger of the process. Everything it writes goes
// through the redactor.
func newLogger(format, level string, w io.Writer, red *redact.Redactor, getenv func(string) string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Nop(), usageErr("--log-level: %q is not one of debug, info, warn, error", level)
	}
	console := format == "console"
	switch format {
	case "auto", "":
		console = isTerminal(w)
	case "json", "console":
	default:
		return zerolog.Nop(), usageErr("--log-format: %q is not one of auto, json, console", format)
	}
	out := red.Writer(w)
	if console {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339, NoColor: getenv("NO_COLOR") != ""}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

// connect opens a pool from --database-url, or from the PG* variables when
// it is empty, with the session's lock_timeout and statement_timeout set
// from the flags. Its errors pass through red: the password enters errors
// here.
func connect(ctx context.Context, db dbFlags, red *redact.Redactor) (*pgxpool.Pool, error) {
	if db.LockTimeout < 0 || db.StatementTimeout < 0 {
		return nil, usageErr("--lock-timeout and --statement-timeout must not be negative")
	}
	cfg, err := pgxpool.ParseConfig(db.DatabaseURL)
	if err != nil {
		return nil, usageErr("--database-url: %s", red.String(parseReason(err)))
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = "ratickets"
	rp["lock_timeout"] = strconv.FormatInt(db.LockTimeout.Milliseconds(), 10)
	rp["statement_timeout"] = strconv.FormatInt(db.StatementTimeout.Milliseconds(), 10)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", red.Error(err))
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", red.Error(err))
	}
	return pool, nil
}

// redactor returns the redactor for the given secrets and every value the
// database URL (parsed tolerantly, for malformed ones) or PGPASSWORD may
// carry as the password.
func (db dbFlags) redactor(getenv func(string) string, secrets ...string) *redact.Redactor {
	secrets = append(secrets, getenv("PGPASSWORD"))
	secrets = append(secrets, redact.ConnStringPasswords(db.DatabaseURL)...)
	if cfg, err := pgxpool.ParseConfig(db.DatabaseURL); err == nil {
		secrets = append(secrets, cfg.ConnConfig.Password)
	}
	return redact.New(secrets...)
}

// parseReason is the reason a connection string was refused, without the
// string itself, which pgx quotes (redacting only the passwords it can
// recognise in a string it could not parse).
func parseReason(err error) string {
	msg := err.Error()
	if !strings.HasPrefix(msg, "cannot parse `") {
		return msg
	}
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return "cannot parse the connection string: " + msg[i+3:]
	}
	return "cannot parse the connection string"
}

// exitCode maps an error to the exit status and prints its one-line reason.
// The errors are clean at their source (extract, connect); red is the last
// line of defence for what is printed outside the log.
func exitCode(err error, stderr io.Writer, red *redact.Redactor) int {
	if err == nil {
		return exitOK
	}
	// One line: errors.Join separates the failures of a run (a merge and
	// the scan it stopped) with newlines, which would break the last line
	// of the output into pieces a log collector reads as separate events.
	msg := strings.ReplaceAll(red.String(err.Error()), "\n", "; ")
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "ratickets: %s\n", strings.TrimPrefix(msg, "usage: "))
		return exitUsage
	}
	fmt.Fprintf(stderr, "ratickets: %s\n", msg)
	return exitFailed
}
