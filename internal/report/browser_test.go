package report_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/report"
)

// findChromium returns the browser to test with, or "".
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chartInfo is what the page says about one figure once the browser laid
// it out.
type chartInfo struct {
	ID     string  `json:"id"`
	Empty  string  `json:"empty"`
	Marks  int     `json:"marks"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Texts  int     `json:"texts"`
}

type pageInfo struct {
	Charts      []chartInfo `json:"charts"`
	ScrollWidth float64     `json:"scrollWidth"`
	InnerWidth  float64     `json:"innerWidth"`
	Title       string      `json:"title"`
}

// A data mark is a path drawn in one of the figure's series colours
// (data-colors) that has an area (fills) or a length (strokes): axes, ticks
// and grid are black or grey, legends are HTML, so only data qualifies, and
// a zero-height bar does not.
const inspectJS = `(() => {
  const charts = [...document.querySelectorAll('figure[data-chart]')].map(f => {
    const colors = (f.dataset.colors || '').split(' ').filter(Boolean);
    const svg = f.querySelector('svg');
    let marks = 0;
    if (svg) {
      for (const p of svg.querySelectorAll('path')) {
        const st = p.getAttribute('style') || '';
        const fill = colors.some(c => st.includes('fill:' + c));
        const stroke = colors.some(c => st.includes('stroke:' + c));
        if (!fill && !stroke) continue;
        const b = p.getBBox();
        if (fill ? (b.width > 0 && b.height > 0) : (b.width > 0 || b.height > 0)) marks++;
      }
    }
    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.dataset.chart, empty: f.dataset.empty, marks, width: r.width, height: r.height,
            texts: svg ? svg.querySelectorAll('text').length : 0};
  });
  return {charts, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          title: document.title};
})()`

// TestReportInBrowser opens generated reports in headless Chromium, at a
// laptop's and a phone's width, and checks that they load without a console
// error and that every chart is drawn with data and fits the screen.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium not found (install the Debian package chromium, or set CHROMIUM)")
		}
		t.Skip("Chromium not found: install the Debian package chromium (apt-get install -y chromium) or set CHROMIUM to run this test")
	}

	dir := t.TempDir()
	seeded := filepath.Join(dir, "seeded.html")
	empty := filepath.Join(dir, "empty.html")
	for _, r := range []struct {
		path string
		db   *pgtest.DB
	}{{seeded, seededDB(t)}, {empty, pgtest.NewDB(t)}} {
		f, err := os.Create(r.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.Generate(context.Background(), r.db.Pool, report.Options{Now: reportNow}, f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()

	var mu sync.Mutex
	var problems []string
	listener := func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				p = fmt.Sprintf("console.%s", ev.Type)
				for _, a := range ev.Args {
					p += fmt.Sprintf(" %s", a.Value)
				}
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				p += " " + ev.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				p = fmt.Sprintf("log %s %s: %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(listener))
	defer cancel()
	// Start the browser without a deadline (a deadline on the first Run
	// would bound the browser's life), then bound each step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}

	shots := os.Getenv("RATICKETS_REPORT_SCREENSHOTS") // a directory, to look at the pages

	for _, c := range []struct {
		name          string
		path          string
		width, height int64
		wantData      bool
	}{
		{"seeded laptop", seeded, 1280, 800, true},
		{"seeded phone", seeded, 390, 844, true},
		{"empty laptop", empty, 1280, 800, false},
		{"empty phone", empty, 390, 844, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			problems = nil
			mu.Unlock()
			sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
			defer scancel()
			u := (&url.URL{Scheme: "file", Path: c.path}).String()
			var opts []chromedp.EmulateViewportOption
			if c.width < 600 {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch)
			}
			if err := chromedp.Do(sctx,
				chromedp.EmulateViewport(c.width, c.height, opts...),
				chromedp.Navigate(u),
				chromedp.WaitReady(chromedp.CSS("body")),
			); err != nil {
				t.Fatalf("load %s: %v", u, err)
			}
			info, err := chromedp.Run(sctx, chromedp.Evaluate[pageInfo](inspectJS))
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if shots != "" {
				png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Logf("screenshot: %v", err)
				} else if err := os.WriteFile(filepath.Join(shots, strings.ReplaceAll(c.name, " ", "_")+".png"), png, 0o644); err != nil {
					t.Log(err)
				}
				for _, id := range chartIDs {
					png, err := chromedp.Run(sctx, chromedp.Screenshot(chromedp.ID("chart-"+id)))
					if err == nil {
						err = os.WriteFile(filepath.Join(shots, strings.ReplaceAll(c.name, " ", "_")+"_"+id+".png"), png, 0o644)
					}
					if err != nil {
						t.Log(err)
					}
				}
			}
			mu.Lock()
			if len(problems) > 0 {
				t.Errorf("console problems: %q", problems)
			}
			mu.Unlock()
			if info.Title != report.DefaultTitle {
				t.Errorf("title %q", info.Title)
			}
			if len(info.Charts) != len(chartIDs) {
				t.Fatalf("%d charts, want %d", len(info.Charts), len(chartIDs))
			}
			if info.ScrollWidth > info.InnerWidth+1 {
				t.Errorf("the page is %v px wide in a %v px window (horizontal scrolling)", info.ScrollWidth, info.InnerWidth)
			}
			for _, ch := range info.Charts {
				if !c.wantData {
					if ch.Empty != "true" || ch.Marks != 0 {
						t.Errorf("%s: %+v, want the no-data message", ch.ID, ch)
					}
					continue
				}
				t.Logf("%s: %d data marks, %d texts, %.0f×%.0f px", ch.ID, ch.Marks, ch.Texts, ch.Width, ch.Height)
				if ch.Empty != "false" || ch.Marks == 0 {
					t.Errorf("%s: no data drawn: %+v", ch.ID, ch)
				}
				if ch.Width < 200 || ch.Width > float64(c.width) || ch.Height < 80 {
					t.Errorf("%s: laid out %.0f×%.0f px in a %d px window", ch.ID, ch.Width, ch.Height, c.width)
				}
				if ch.Texts < 4 {
					t.Errorf("%s: %d texts; a title and axis labels are missing", ch.ID, ch.Texts)
				}
			}
		})
	}
}
