// Command gen writes the ratickets Grafana dashboard (package
// deploy/grafana) to a file: go generate ./deploy/grafana/ runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ratickets/ratickets/deploy/grafana"
)

func main() {
	out := flag.String("o", "ratickets.json", "the file to write")
	flag.Parse()
	b, err := grafana.JSON()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
