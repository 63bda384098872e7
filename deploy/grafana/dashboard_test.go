package grafana_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/deploy/grafana"
	"github.com/ratickets/ratickets/internal/metrics"
)

// TestCommittedDashboardIsFresh: ratickets.json is what the generator
// builds now. After a change to dashboard.go, run go generate ./deploy/grafana/.
func TestCommittedDashboardIsFresh(t *testing.T) {
	t.Parallel()
	want, err := grafana.JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("ratickets.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("deploy/grafana/ratickets.json is stale: run go generate ./deploy/grafana/ and commit it")
	}
}

type panel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	ID         int    `json:"id"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		RawSQL string `json:"rawSql"`
		Expr   string `json:"expr"`
		Format string `json:"format"`
	} `json:"targets"`
}

func committed(t *testing.T) (d struct {
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Query   string `json:"query"`
			Current struct {
				Value string `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}) {
	t.Helper()
	b, err := os.ReadFile("ratickets.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDashboardPanels checks the committed file the way Grafana would read
// it: unique panel ids, every query on one of the two data source variables,
// the panels the README lists, and Prometheus expressions that name only
// metrics ratickets exports.
func TestDashboardPanels(t *testing.T) {
	t.Parallel()
	d := committed(t)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			vars[v.Name] = v.Query
		}
	}
	if vars["postgres"] != grafana.PostgresType || vars["prometheus"] != grafana.PrometheusType {
		t.Fatalf("data source variables %v", vars)
	}
	exported := map[string]bool{}
	for _, name := range []string{metrics.RunsTotal, metrics.RunDurationSeconds + "_bucket", metrics.LastSuccessTimestamp,
		metrics.LastRunTimestamp, metrics.APIRequestsTotal, metrics.APIRetriesTotal, metrics.TicketsTotal,
		metrics.OpenTickets, metrics.RowsPerSecond} {
		exported[name] = true
	}
	metricRe := regexp.MustCompile(`\bratickets_[a-z_]+`)
	ids := map[int]bool{}
	titles := map[string]bool{}
	var sqlN, promN int
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
		}
		ids[p.ID] = true
		titles[p.Title] = true
		for _, q := range p.Targets {
			if q.Datasource == nil || p.Datasource == nil || *q.Datasource != *p.Datasource {
				t.Errorf("panel %q: a query's data source differs from the panel's", p.Title)
				continue
			}
			switch q.Datasource.Type {
			case grafana.PostgresType:
				sqlN++
				if q.Datasource.UID != "${postgres}" || q.RawSQL == "" || !strings.Contains(q.RawSQL, "analytics.") {
					t.Errorf("panel %q: %+v", p.Title, q)
				}
				if strings.Contains(q.RawSQL, "timestamptz") || strings.Contains(q.RawSQL, "now()") {
					t.Errorf("panel %q: the query depends on the session's time zone:\n%s", p.Title, q.RawSQL)
				}
			case grafana.PrometheusType:
				promN++
				if q.Datasource.UID != "${prometheus}" || q.Expr == "" {
					t.Errorf("panel %q: %+v", p.Title, q)
				}
				for _, m := range metricRe.FindAllString(q.Expr, -1) {
					if !exported[m] {
						t.Errorf("panel %q: %s is not a ratickets metric", p.Title, m)
					}
				}
			default:
				t.Errorf("panel %q: data source type %q", p.Title, q.Datasource.Type)
			}
		}
	}
	for _, want := range []string{"Backlog at the end of each UTC day", "Opened vs resolved per week", "Time to resolution by month",
		"Games with the most open tickets", "Consoles with the most open tickets", "Oldest open tickets",
		"Last successful sync", "Runs by outcome", "API requests by status code", "API retries", "Tickets seen by outcome"} {
		if !titles[want] {
			t.Errorf("no panel %q", want)
		}
	}
	if sqlN < 8 || promN < 6 {
		t.Errorf("%d SQL and %d Prometheus queries", sqlN, promN)
	}
}

// TestProvisioningMatchesDashboard: the example data sources have the uids
// and types the dashboard selects by default, the PostgreSQL one logs in as
// the reader role, and the provider's folder is where the README says to put
// the JSON.
func TestProvisioningMatchesDashboard(t *testing.T) {
	t.Parallel()
	ds, err := os.ReadFile("provisioning/datasources/ratickets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(ds)
	if strings.Contains(y, "\t") {
		t.Error("tab in YAML")
	}
	for _, want := range []string{
		"uid: " + grafana.PostgresUID + "\n    type: " + grafana.PostgresType + "\n",
		"uid: " + grafana.PrometheusUID + "\n    type: " + grafana.PrometheusType + "\n",
		"user: ratickets_reader\n",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("datasources/ratickets.yaml lacks %q", want)
		}
	}
	d := committed(t)
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Current.Value != grafana.PostgresUID && v.Current.Value != grafana.PrometheusUID {
			t.Errorf("variable %s defaults to %q, not a provisioned uid", v.Name, v.Current.Value)
		}
	}
	prov, err := os.ReadFile("provisioning/dashboards/ratickets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prov), "path: /var/lib/grafana/dashboards/ratickets\n") || !strings.Contains(string(prov), "type: file\n") {
		t.Error("dashboards/ratickets.yaml: want a file provider at /var/lib/grafana/dashboards/ratickets")
	}
}
