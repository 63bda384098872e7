// Package metrics holds the Prometheus metrics of ratickets: what the runs
// did (outcome, duration, tickets by outcome, rows per second), how the RA
// API answered (requests by status code, retries), and the API's own count
// of open tickets.
//
// A Metrics has its own registry, never the global one, so that the same
// values can be served on /metrics by `ratickets serve`, written as a
// node_exporter textfile or pushed to a Pushgateway by a one-shot `sync`
// under cron, and so that tests can make as many as they like.
//
// Feed it from two places: OnAttempt is extract.Config.OnAttempt (every HTTP
// attempt, live), and ObserveRun takes the pipeline.Summary of each run.
package metrics
