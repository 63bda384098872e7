// Package report turns the analytics views (migration 00004, schema
// analytics) into one self-contained HTML file: inline CSS and inline SVG
// charts drawn with gonum.org/v1/plot, so that the file opens anywhere,
// offline, and can be mailed or archived as it is.
package report
