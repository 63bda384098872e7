package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

// DefaultBaseURL is the real RetroAchievements site.
const DefaultBaseURL = "https://retroachievements.org"

// errUsage marks configuration errors (exit 2).
var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// option is a flag whose value falls back to an environment variable and
// then to a default: flag > environment > default. Secrets never show their
// value in --help, because the default shown is the built-in one.
type option struct {
	name, env, def string
	val            string
	set            bool
}

type options struct {
	fs   *flag.FlagSet
	opts []*option
}

func newFlagSet(name, synopsis string, stderr io.Writer) *options {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{fs: fs}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ratickets %s\n\n", synopsis)
		fmt.Fprintln(stderr, "Flags (a flag wins over its environment variable, which wins over the default):")
		fs.PrintDefaults()
	}
	return o
}

// str registers a string option.
func (o *options) str(name, env, def, usage string) *option {
	op := &option{name: name, env: env, def: def}
	if env != "" {
		usage += " (env " + env + ")"
	}
	o.fs.Func(name, usage+defaultNote(def), func(v string) error { op.val, op.set = v, true; return nil })
	o.opts = append(o.opts, op)
	return op
}

func defaultNote(def string) string {
	if def == "" {
		return ""
	}
	return " (default " + strconv.Quote(def) + ")"
}

// parse parses args and resolves every option against getenv.
func (o *options) parse(args []string, getenv func(string) string) error {
	if err := o.fs.Parse(args); err != nil {
		return err
	}
	for _, op := range o.opts {
		if op.set {
			continue
		}
		if v := getenv(op.env); op.env != "" && v != "" {
			op.val = v
			continue
		}
		op.val = op.def
	}
	return nil
}

func (op *option) String() string { return op.val }

func (op *option) Float() (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(op.val), 64)
	if err != nil {
		return 0, usageErr("--%s: %q is not a number", op.name, op.val)
	}
	return f, nil
}

func (op *option) Int() (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(op.val))
	if err != nil {
		return 0, usageErr("--%s: %q is not a whole number", op.name, op.val)
	}
	return n, nil
}

func (op *option) Duration() (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(op.val))
	if err != nil {
		return 0, usageErr("--%s: %q is not a duration (e.g. 30s, 15m)", op.name, op.val)
	}
	return d, nil
}

// common holds the options every database-using command shares.
type common struct {
	databaseURL, logFormat, logLevel *option
}

func addCommon(o *options) *common {
	return &common{
		databaseURL: o.str("database-url", "DATABASE_URL", "", "PostgreSQL connection URL; when empty, the standard PG* variables (PGHOST, PGUSER, PGPASSWORD, …) apply"),
		logFormat:   o.str("log-format", "RATICKETS_LOG_FORMAT", "auto", "log format: auto (console on a terminal, JSON otherwise), json or console"),
		logLevel:    o.str("log-level", "RATICKETS_LOG_LEVEL", "info", "log level: debug, info, warn or error"),
	}
}

// apiOpts holds the options of commands that talk to the RA API.
type apiOpts struct {
	baseURL, username, apiKey, apiKeyFile, rps, maxRetries, timeout *option
	allowUnlimited, allowInsecure                                   *bool
	// keyFileWarning, set by key, says that the key file is readable by
	// group or others.
	keyFileWarning string
}

func addAPI(o *options) *apiOpts {
	a := &apiOpts{
		baseURL:    o.str("base-url", "RA_BASE_URL", DefaultBaseURL, "RetroAchievements base URL"),
		username:   o.str("username", "RA_USERNAME", "", "your RetroAchievements username (sent as z)"),
		apiKey:     o.str("api-key", "RA_API_KEY", "", "your RetroAchievements web API key (sent as y; never logged)"),
		apiKeyFile: o.str("api-key-file", "RA_API_KEY_FILE", "", "read the web API key from this file (e.g. a mounted secret)"),
		rps:        o.str("rps", "RA_RPS", "1", "client-side rate limit in requests per second; 0 = unlimited (only with a non-default --base-url or --allow-unlimited)"),
		maxRetries: o.str("max-retries", "RA_MAX_RETRIES", "5", "retries per request on 429, 5xx, timeouts and malformed bodies"),
		timeout:    o.str("timeout", "RA_TIMEOUT", "30s", "timeout of one HTTP request"),
	}
	a.allowUnlimited = o.fs.Bool("allow-unlimited", false, "allow --rps 0 against the real RetroAchievements site")
	a.allowInsecure = o.fs.Bool("allow-insecure", false, "allow a plain http:// --base-url on a host that is not loopback (the key would travel in clear)")
	return a
}

// apiKey resolves the key from --api-key or --api-key-file.
func (a *apiOpts) key() (string, error) {
	if a.apiKey.val != "" {
		return a.apiKey.val, nil
	}
	if a.apiKeyFile.val != "" {
		b, err := os.ReadFile(a.apiKeyFile.val)
		if err != nil {
			return "", usageErr("--api-key-file: %v", errors.Unwrap(err))
		}
		a.keyFileWarning = keyFileWarning(a.apiKeyFile.val)
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// clientConfig validates the API options and builds the extract config.
func (a *apiOpts) clientConfig(log zerolog.Logger) (extract.Config, error) {
	key, err := a.key()
	if err != nil {
		return extract.Config{}, err
	}
	if key == "" {
		return extract.Config{}, usageErr("no API key: set --api-key, RA_API_KEY, --api-key-file or RA_API_KEY_FILE")
	}
	if a.username.val == "" {
		return extract.Config{}, usageErr("no username: set --username or RA_USERNAME")
	}
	rps, err := a.rps.Float()
	if err != nil {
		return extract.Config{}, err
	}
	if rps < 0 {
		return extract.Config{}, usageErr("--rps must be 0 (unlimited) or more")
	}
	base := strings.TrimRight(a.baseURL.val, "/")
	u, err := checkBaseURL(base, *a.allowInsecure)
	if err != nil {
		return extract.Config{}, err
	}
	if rps == 0 && isRealSite(u) && !*a.allowUnlimited {
		return extract.Config{}, usageErr("--rps 0 (unlimited) against the real site needs --allow-unlimited; the server answers bursts with 429")
	}
	retries, err := a.maxRetries.Int()
	if err != nil {
		return extract.Config{}, err
	}
	if retries == 0 {
		retries = -1 // extract: 0 means its default; the flag's 0 means none
	}
	timeout, err := a.timeout.Duration()
	if err != nil {
		return extract.Config{}, err
	}
	return extract.Config{
		BaseURL:    base,
		Username:   a.username.val,
		APIKey:     key,
		RPS:        rps,
		MaxRetries: retries,
		Timeout:    timeout,
		UserAgent:  "ratickets/" + version() + " (+https://github.com/ratickets/ratickets)",
		Logger:     log.With().Str("stage", "extract").Logger(),
	}, nil
}

// checkBaseURL parses the API base URL and refuses plain http on a host
// that is not loopback, unless allowInsecure: the key is sent in the query
// string of every request.
func checkBaseURL(base string, allowInsecure bool) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, usageErr("--base-url: %q is not an http(s) URL", base)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !allowInsecure && !isLoopback(u.Hostname()) {
			return nil, usageErr("--base-url: plain http to %s would send the API key in clear; use https, or --allow-insecure", u.Hostname())
		}
	default:
		return nil, usageErr("--base-url: %q is not an http(s) URL", base)
	}
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// isRealSite reports whether u points at RetroAchievements itself: the
// host retroachievements.org or any host under it, in any case, with or
// without a trailing dot or a port.
func isRealSite(u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return host == "retroachievements.org" || strings.HasSuffix(host, ".retroachievements.org")
}

// keyFileWarning returns a warning when the key file is readable by group
// or others ("" otherwise).
func keyFileWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("the API key file is readable by group or others (mode %04o); chmod 600 it", fi.Mode().Perm())
}

// newLogger builds the one logger of the process. Everything it writes goes
// through the redactor.
func newLogger(format, level string, w io.Writer, red *redact.Redactor, getenv func(string) string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Nop(), usageErr("--log-level: %q is not one of debug, info, warn, error", level)
	}
	out := red.Writer(w)
	switch format {
	case "json":
	case "console":
		out = consoleWriter(out, getenv)
	case "auto", "":
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			out = consoleWriter(out, getenv)
		}
	default:
		return zerolog.Nop(), usageErr("--log-format: %q is not one of auto, json, console", format)
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

func consoleWriter(w io.Writer, getenv func(string) string) io.Writer {
	return zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: getenv("NO_COLOR") != ""}
}

// connect opens a pool from --database-url, or from the PG* variables when
// it is empty.
func connect(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, usageErr("--database-url: %s", parseReason(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "ratickets"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return pool, nil
}

// parseReason is the reason a connection string was refused, without the
// string itself, which pgx quotes (redacting only the passwords it can
// recognise in a string it could not parse).
func parseReason(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "cannot parse `") {
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			return "cannot parse the connection string: " + msg[i+3:]
		}
		return "cannot parse the connection string"
	}
	return msg
}

// dbPasswords returns every value the database URL (parsed tolerantly, for
// malformed ones) or PGPASSWORD may carry as the password, so that the
// redactor can scrub it.
func dbPasswords(databaseURL string, getenv func(string) string) []string {
	pws := append(redact.ConnStringPasswords(databaseURL), getenv("PGPASSWORD"))
	if cfg, err := pgxpool.ParseConfig(databaseURL); err == nil && cfg.ConnConfig.Password != "" {
		pws = append(pws, cfg.ConnConfig.Password)
	}
	return pws
}

// exitCode maps an error to the exit status and prints its one-line reason.
func exitCode(err error, stderr io.Writer, red *redact.Redactor) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
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
