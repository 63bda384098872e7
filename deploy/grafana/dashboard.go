// Package grafana builds the Grafana dashboard that ships with ratickets
// (ratickets.json beside this file) with the Grafana Foundation SDK, so that
// the panels are Go values, checked when they are built, rather than
// hand-edited JSON.
//
// Regenerate the file after a change with
//
//	go generate ./deploy/grafana/
//
// TestCommittedDashboardIsFresh fails while the committed file differs from
// what Dashboard builds. The SQL panels read the analytics views as the
// reader role of deploy/postgres/reader.sql; a test in internal/report runs
// every one of them as that role.
package grafana

//go:generate go run ./gen -o ratickets.json

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/ratickets/ratickets/internal/metrics"
)

const (
	// UID is the dashboard's uid: its URL is /d/ratickets.
	UID = "ratickets"
	// PostgresType and PrometheusType are the data source plugin ids.
	PostgresType   = "grafana-postgresql-datasource"
	PrometheusType = "prometheus"
	// PostgresUID and PrometheusUID are the data sources the dashboard
	// selects by default: those of provisioning/datasources/ratickets.yaml.
	// Its two data source variables let a user pick others.
	PostgresUID   = "ratickets-postgres"
	PrometheusUID = "ratickets-prometheus"
)

// The data source variables the panels point at.
var (
	pgRef   = common.DataSourceRef{Type: cog.ToPtr(PostgresType), Uid: cog.ToPtr("${postgres}")}
	promRef = common.DataSourceRef{Type: cog.ToPtr(PrometheusType), Uid: cog.ToPtr("${prometheus}")}
)

// SQLQuery is a query of Grafana's PostgreSQL data source in code mode. The
// SDK has no type for that plugin; this is the part of its model a raw SQL
// query uses.
type SQLQuery struct {
	RefID      string                `json:"refId"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	// Format is "time_series" (a time column and numbers) or "table".
	Format     string `json:"format"`
	EditorMode string `json:"editorMode"`
	RawQuery   bool   `json:"rawQuery"`
	RawSQL     string `json:"rawSql"`
}

func (SQLQuery) ImplementsDataqueryVariant() {}
func (SQLQuery) DataqueryType() string       { return PostgresType }
func (q SQLQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(SQLQuery)
	return ok && o.RefID == q.RefID && o.Format == q.Format && o.RawSQL == q.RawSQL
}
func (q SQLQuery) Validate() error {
	if q.RawSQL == "" {
		return fmt.Errorf("grafana: SQL query %s is empty", q.RefID)
	}
	return nil
}

// Build makes SQLQuery its own cog.Builder.
func (q SQLQuery) Build() (variants.Dataquery, error) { return q, q.Validate() }

func sql(format, text string) SQLQuery {
	return SQLQuery{RefID: "A", Datasource: &pgRef, Format: format, EditorMode: "code", RawQuery: true, RawSQL: text}
}

func prom(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(promRef).Expr(expr).LegendFormat(legend).Range()
}

// The panel queries. Every time column is UTC whatever the session's
// TimeZone: the views' timestamps are UTC timestamps without time zone
// (Grafana reads those as UTC) and backlog_daily.day is a UTC date turned
// into a timestamp, never into a timestamptz. $__timeFilter is Grafana's
// macro for the dashboard's time range.
const (
	backlogSQL = `SELECT day::timestamp AS time, open, request, api_open_tickets AS "API open (last sync)"
FROM analytics.backlog_daily
WHERE $__timeFilter(day)
ORDER BY day`

	weeklyFlowSQL = `SELECT date_trunc('week', day::timestamp) AS time,
       sum(opened) AS opened, sum(resolved) AS resolved, sum(closed) AS closed
FROM analytics.backlog_daily
WHERE $__timeFilter(day)
GROUP BY 1
ORDER BY 1`

	resolutionByMonthSQL = `SELECT date_trunc('month', resolved_at) AS time,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolution) / 24 AS "median days",
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_resolution) / 24 AS "90th percentile days"
FROM analytics.resolution_times
WHERE $__timeFilter(resolved_at)
GROUP BY 1
ORDER BY 1`

	resolutionStatSQL = `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolution) / 24 AS "median days to resolution",
       count(*) AS resolutions
FROM analytics.resolution_times
WHERE $__timeFilter(resolved_at)`

	backlogNowSQL = `SELECT count(*) FILTER (WHERE report_state = 'open') AS open,
       count(*) FILTER (WHERE report_state = 'request') AS request
FROM analytics.open_tickets`

	topGamesSQL = `SELECT coalesce(game_title, 'game ' || game_id) || coalesce(' (' || console_name || ')', '') AS game,
       open_now
FROM analytics.by_game
WHERE open_now > 0
ORDER BY open_now DESC, total_seen DESC, game_id
LIMIT 15`

	topConsolesSQL = `SELECT coalesce(console_name, '(none)') AS console, open_now
FROM analytics.by_console
WHERE open_now > 0
ORDER BY open_now DESC, console_name
LIMIT 15`

	oldestOpenSQL = `SELECT ticket_id, reported_at, round(age_days::numeric, 1) AS age_days, report_state,
       game_title, console_name, achievement_title, achievement_author
FROM analytics.open_tickets
ORDER BY reported_at, ticket_id
LIMIT 25`
)

func stateColors() *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)
}

type query = cog.Builder[variants.Dataquery]

// The panel kinds, with what every panel of a kind shares.

func statPanel(title, desc string, ds common.DataSourceRef, h, w uint32, target query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).WithTarget(target).Height(h).Span(w).
		ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone)
}

func timeSeries(title, desc string, ds common.DataSourceRef, h, w uint32, targets ...query) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Targets(targets).Height(h).Span(w).
		Min(0)
}

// topBars is a horizontal bar gauge of the open_now column of a table query.
func topBars(title, desc, sqlText string) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(desc).Datasource(pgRef).WithTarget(sql("table", sqlText)).
		Height(10).Span(12).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Values(true).Calcs([]string{"lastNotNull"}).Fields("/^open_now$/")).
		Min(0)
}

// datasourceVar lets a user pick the data source of type pluginType the
// panels use; uid is the default.
func datasourceVar(name, label, pluginType, uid string) *dashboard.DatasourceVariableBuilder {
	current := dashboard.StringOrArrayOfString{String: cog.ToPtr(uid)}
	return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(pluginType).
		Current(dashboard.VariableOption{Text: current, Value: current})
}

// quantile is a quantile of the run durations.
func quantile(q string) string {
	return "histogram_quantile(" + q + ", sum by (le) (rate(" + metrics.RunDurationSeconds + "_bucket[$__rate_interval])))"
}

// Dashboard builds the dashboard.
func Dashboard() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("RetroAchievements tickets (ratickets)").
		Uid(UID).
		Description("The ticket backlog from the analytics views (PostgreSQL, as the reader role of deploy/postgres/reader.sql) and the health of the ratickets runs (Prometheus). Generated by deploy/grafana; do not edit the JSON.").
		Tags([]string{"ratickets"}).
		Timezone("utc").
		Time("now-180d", "now").
		Refresh("").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVar("postgres", "PostgreSQL (reader role)", PostgresType, PostgresUID)).
		WithVariable(datasourceVar("prometheus", "Prometheus", PrometheusType, PrometheusUID)).
		WithRow(dashboard.NewRowBuilder("Backlog (PostgreSQL: analytics views)")).
		WithPanel(statPanel("Backlog now",
			"Tickets in state open and request that have not vanished (analytics.open_tickets).",
			pgRef, 8, 4, sql("table", backlogNowSQL))).
		WithPanel(timeSeries("Backlog at the end of each UTC day",
			"open and request are end-of-day levels; the API's own count at the day's last sync for comparison. Today's levels are as of the last sync.",
			pgRef, 8, 14, sql("time_series", backlogSQL)).
			ColorScheme(stateColors()).
			Unit("short")).
		WithPanel(statPanel("Time to resolution",
			"Median days from report to resolution of the tickets resolved in the time range, and their number (analytics.resolution_times).",
			pgRef, 8, 6, sql("table", resolutionStatSQL)).
			Decimals(1)).
		WithPanel(timeSeries("Opened vs resolved per week",
			"Tickets reported, resolved and closed per ISO week (Monday, UTC): flows, so summing days is right. The current week is partial.",
			pgRef, 9, 12, sql("time_series", weeklyFlowSQL)).
			DrawStyle(common.GraphDrawStyleBars).
			FillOpacity(70).
			ColorScheme(stateColors()).
			Unit("short")).
		WithPanel(timeSeries("Time to resolution by month",
			"Median and 90th percentile days from report to resolution, by the UTC month of resolved_at.",
			pgRef, 9, 12, sql("time_series", resolutionByMonthSQL)).
			Unit("d").
			Decimals(1)).
		WithPanel(topBars("Games with the most open tickets",
			"analytics.by_game: open_now (open or request, not vanished).", topGamesSQL)).
		WithPanel(topBars("Consoles with the most open tickets", "analytics.by_console: open_now.", topConsolesSQL)).
		WithPanel(table.NewPanelBuilder().
			Title("Oldest open tickets").
			Description("analytics.open_tickets by reported_at (UTC); age in days.").
			Datasource(pgRef).
			WithTarget(sql("table", oldestOpenSQL)).
			Height(10).Span(24)).
		WithRow(dashboard.NewRowBuilder("Runs (Prometheus: serve /metrics or the textfile export)")).
		WithPanel(statPanel("Last successful sync",
			"Age of the data: time since the last successful sync finished ("+metrics.LastSuccessTimestamp+"; 0, never, shows as very old). Red after 45 minutes, 3 × a 15-minute schedule.",
			promRef, 6, 6, prom("time() - max("+metrics.LastSuccessTimestamp+")", "age")).
			Unit("s").
			Thresholds(dashboard.NewThresholdsConfigBuilder().
				Mode(dashboard.ThresholdsModeAbsolute).
				Steps([]dashboard.Threshold{
					{Color: "green"},
					{Value: cog.ToPtr(45.0 * 60), Color: "red"},
				})).
			ColorMode(common.BigValueColorModeBackground)).
		WithPanel(timeSeries("Runs by outcome",
			"Sync runs per interval by status ("+metrics.RunsTotal+"). With the textfile export or the Pushgateway each export describes one run: the series show the last run's outcome rather than a count.",
			promRef, 6, 9, prom("sum by (status) (increase("+metrics.RunsTotal+"[$__rate_interval]))", "{{status}}")).
			DrawStyle(common.GraphDrawStyleBars).
			FillOpacity(70)).
		WithPanel(timeSeries("Run duration",
			"Median and 90th percentile wall-clock duration of the runs that started ("+metrics.RunDurationSeconds+").",
			promRef, 6, 9, prom(quantile("0.5"), "median").RefId("A"), prom(quantile("0.9"), "p90").RefId("B")).
			Unit("s")).
		WithPanel(timeSeries("API requests by status code",
			"HTTP attempts to the RA API per second ("+metrics.APIRequestsTotal+"; code none: no response).",
			promRef, 8, 8, prom("sum by (code) (rate("+metrics.APIRequestsTotal+"[$__rate_interval]))", "{{code}}")).
			Unit("reqps")).
		WithPanel(timeSeries("API retries",
			"Failed attempts that were retried, per second ("+metrics.APIRetriesTotal+").",
			promRef, 8, 8, prom("sum(rate("+metrics.APIRetriesTotal+"[$__rate_interval]))", "retries")).
			Unit("reqps")).
		WithPanel(timeSeries("Tickets seen by outcome",
			"Tickets merged per interval: inserted, updated, unchanged, rejected ("+metrics.TicketsTotal+"); and the API's OpenTickets at the last sync ("+metrics.OpenTickets+").",
			promRef, 8, 8,
			prom("sum by (outcome) (increase("+metrics.TicketsTotal+"[$__rate_interval]))", "{{outcome}}").RefId("A"),
			prom("max("+metrics.OpenTickets+")", "API open tickets").RefId("B")))
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	// Grafana keys panels by id: number them in order.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		switch {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	return d, nil
}

// JSON is the dashboard as the committed file holds it: indented, with a
// final newline.
func JSON() ([]byte, error) {
	d, err := Dashboard()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
