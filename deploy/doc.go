// Package deploy holds no code: this directory has the deployment examples
// (systemd service and timer, a crontab line, a Kubernetes CronJob, a
// Dockerfile and a least-privilege PostgreSQL role script), and this
// package's tests check them with what exists without a Docker engine or a
// cluster: systemd-analyze verify, the Dockerfile's build line run as is,
// the role script against a real PostgreSQL.
package deploy
