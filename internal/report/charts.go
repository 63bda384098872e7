package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// series is one coloured thing a chart draws. Colours are only used for data
// (axes, ticks and grid are black or grey), and the legend is HTML, so a
// path in one of a chart's series colours is a data mark — which is what the
// browser test counts.
type series struct {
	Name  string
	Color color.RGBA
}

// Hex is the colour as vgsvg writes it in style attributes (#RRGGBB).
func (s series) Hex() string {
	return fmt.Sprintf("#%02X%02X%02X", s.Color.R, s.Color.G, s.Color.B)
}

var (
	seriesOpen     = series{"open", color.RGBA{0x1F, 0x77, 0xB4, 0xFF}}
	seriesRequest  = series{"request", color.RGBA{0xFF, 0x7F, 0x0E, 0xFF}}
	seriesAPI      = series{"open + request reported by the API at the day's last sync", color.RGBA{0x94, 0x67, 0xBD, 0xFF}}
	seriesOpened   = series{"opened (reported)", color.RGBA{0x1F, 0x77, 0xB4, 0xFF}}
	seriesResolved = series{"resolved", color.RGBA{0x2C, 0xA0, 0x2C, 0xFF}}
	seriesClosed   = series{"closed", color.RGBA{0x8C, 0x56, 0x4B, 0xFF}}
	seriesTickets  = series{"tickets", color.RGBA{0x1F, 0x77, 0xB4, 0xFF}}
	seriesBacklog  = series{"open or request now", color.RGBA{0xD6, 0x27, 0x28, 0xFF}}
	seriesOther    = series{"other states", color.RGBA{0x7F, 0x7F, 0x7F, 0xFF}}
	gridColor      = color.RGBA{0xDD, 0xDD, 0xDD, 0xFF}
)

// chart is one figure of the page: an inline SVG, or the reason it is empty.
type chart struct {
	ID      string // data-chart attribute
	Title   string
	Caption string
	Series  []series
	SVG     template.HTML // empty when there is no data
	Empty   string        // shown instead of the chart
}

// Colors lists the series colours for the data-colors attribute.
func (c chart) Colors() string {
	s := make([]string, len(c.Series))
	for i, x := range c.Series {
		s[i] = x.Hex()
	}
	return strings.Join(s, " ")
}

const (
	chartW = 420 // points; the SVG scales to its container's width
	chartH = 280
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot in the page's style, with whole-number ticks on
// the value axis (y, or x for horizontal bars) and light grid lines along
// it behind the data.
func newPlot(title, xLabel, yLabel string, horizontal bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 12)
		a.Tick.Label.Font = font.From(sans, 11)
	}
	p.BackgroundColor = color.White
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	if horizontal {
		g.Horizontal.Width = 0
		p.X.Tick.Marker = intTicks{}
	} else {
		g.Vertical.Width = 0
		p.Y.Tick.Marker = intTicks{}
	}
	p.Add(g)
	return p
}

var (
	svgProlog = regexp.MustCompile(`(?s)^.*?<svg\s`)
	svgSize   = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

// render draws p, h points high, into c as inline SVG: without the XML
// prolog (not allowed inside HTML), with width 100 % and the viewBox vgsvg
// writes, so it scales with the page, and labelled with c's title for
// screen readers.
func (c chart) render(p *plot.Plot, h vg.Length) (chart, error) {
	canvas := vgsvg.New(chartW, h)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return chart{}, fmt.Errorf("report: render chart %q: %w", c.Title, err)
	}
	s := svgProlog.ReplaceAllString(buf.String(), "<svg ")
	if !svgSize.MatchString(s) {
		return chart{}, fmt.Errorf("report: render chart %q: unexpected SVG header", c.Title)
	}
	s = svgSize.ReplaceAllString(s, `<svg width="100%" role="img" aria-label="`+html.EscapeString(c.Title)+`"`)
	// The SVG is ours, and vgsvg escapes every string it draws
	// (html.EscapeString), so it is safe to insert as it is.
	c.SVG = template.HTML(s) //nolint:gosec // see above
	return c, nil
}

// intTicks keeps the major ticks of the default ticker that are whole
// numbers: the counts on these charts have no fractions.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	if hi-lo < 4 {
		for v := math.Ceil(lo); v <= hi; v++ {
			ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
		}
		return ts
	}
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Label == "" || t.Value == math.Trunc(t.Value) {
			ts = append(ts, t)
		}
	}
	return ts
}

// dateTicks labels a Unix-seconds axis at calendar boundaries.
type dateTicks struct{}

func (dateTicks) Ticks(lo, hi float64) []plot.Tick {
	a := time.Unix(int64(lo), 0).UTC()
	b := time.Unix(int64(hi), 0).UTC()
	// The first step for axes of up to upTo days.
	steps := []struct {
		upTo         float64
		months, days int
		format       string
	}{
		{10, 0, 1, "Jan 2"}, {70, 0, 7, "Jan 2"}, {200, 1, 0, "Jan 2006"}, {550, 3, 0, "Jan 2006"},
		{1100, 6, 0, "Jan 2006"}, {2200, 12, 0, "2006"}, {math.Inf(1), 24, 0, "2006"},
	}
	i := 0
	for b.Sub(a).Hours()/24 > steps[i].upTo {
		i++
	}
	s := steps[i]
	t := time.Date(a.Year(), 1, 1, 0, 0, 0, 0, time.UTC) // month steps start in January
	if s.months == 0 {
		t = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	}
	var ts []plot.Tick
	for ; !t.After(b); t = t.AddDate(0, s.months, s.days) {
		if !t.Before(a) {
			ts = append(ts, plot.Tick{Value: float64(t.Unix()), Label: t.Format(s.format)})
		}
	}
	return ts
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func noData(id, title, why string) chart {
	return chart{ID: id, Title: title, Empty: why}
}

// addBars adds one bar chart per value list to p, in the series' colours,
// without outlines, each stacked on the one before it, all offset by off
// from their category.
func addBars(p *plot.Plot, width, off vg.Length, horizontal bool, ss []series, stacks ...plotter.Values) error {
	var under *plotter.BarChart
	for i, vals := range stacks {
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		b.Color = ss[i].Color
		b.LineStyle.Width = 0
		b.Horizontal = horizontal
		b.Offset = off
		if under != nil {
			b.StackOn(under)
		}
		p.Add(b)
		under = b
	}
	return nil
}

// backlogChart: open and request tickets at the end of each day.
func backlogChart(d *data) (chart, error) {
	days := d.Days
	const id, title = "backlog", "Backlog at the end of each day"
	if len(days) == 0 {
		return noData(id, title, "no tickets in this period yet."), nil
	}
	open := make(plotter.XYs, len(days))
	req := make(plotter.XYs, len(days))
	var api plotter.XYs
	for i, d := range days {
		x := float64(d.Day.Unix())
		open[i] = plotter.XY{X: x, Y: float64(d.Open)}
		req[i] = plotter.XY{X: x, Y: float64(d.Request)}
		if d.APIOpen != nil {
			api = append(api, plotter.XY{X: x, Y: float64(*d.APIOpen)})
		}
	}
	p := newPlot(title, "date (UTC)", "tickets", false)
	p.X.Tick.Marker = dateTicks{}
	p.Y.Min = 0
	if len(days) == 1 {
		// One day has no width; show it in the middle of a three-day axis.
		p.X.Min, p.X.Max = open[0].X-86400, open[0].X+86400
	}
	c := chart{ID: id, Title: title, Series: []series{seriesOpen, seriesRequest}}
	lines := []plotter.XYs{open, req}
	if len(api) > 0 {
		c.Series, lines = append(c.Series, seriesAPI), append(lines, api)
	}
	for i, xy := range lines {
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return chart{}, err
		}
		ln.Color = c.Series[i].Color
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		if len(xy) == 1 {
			// A line of one point draws nothing; mark the point.
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return chart{}, err
			}
			sc.Color = c.Series[i].Color
			p.Add(sc)
		}
	}
	last := days[len(days)-1]
	c.Caption = fmt.Sprintf("Tickets in state open or request at the end of each UTC day, from %s to %s (%d open and %d request on the last day). "+
		"Before ratickets first saw a ticket its state is reconstructed from the dates the source gives.",
		days[0].Day.Format("2006-01-02"), last.Day.Format("2006-01-02"), last.Open, last.Request)
	return c.render(p, chartH)
}

type week struct {
	Start                    time.Time
	Opened, Resolved, Closed int64
}

// weeks sums days into ISO weeks (starting Monday).
func weeks(days []dayRow) []week {
	var ws []week
	for _, d := range days {
		off := (int(d.Day.Weekday()) + 6) % 7
		start := d.Day.AddDate(0, 0, -off)
		if len(ws) == 0 || !ws[len(ws)-1].Start.Equal(start) {
			ws = append(ws, week{Start: start})
		}
		w := &ws[len(ws)-1]
		w.Opened += d.Opened
		w.Resolved += d.Resolved
		w.Closed += d.Closed
	}
	return ws
}

const maxWeeks = 104

// flowChart: tickets opened vs resolved and closed per week.
func flowChart(d *data) (chart, error) {
	const id, title = "weekly", "Tickets opened vs resolved per week"
	ws := weeks(d.Days)
	var total int64
	for _, w := range ws {
		total += w.Opened + w.Resolved + w.Closed
	}
	if total == 0 {
		return noData(id, title, "no ticket was reported, resolved or closed in this period yet."), nil
	}
	shown := ws
	if len(shown) > maxWeeks {
		shown = shown[len(shown)-maxWeeks:]
	}
	opened := make(plotter.Values, len(shown))
	resolved := make(plotter.Values, len(shown))
	closed := make(plotter.Values, len(shown))
	for i, w := range shown {
		opened[i], resolved[i], closed[i] = float64(w.Opened), float64(w.Resolved), float64(w.Closed)
	}
	p := newPlot(title, "week starting (Monday, UTC)", "tickets per week", false)
	// The plot area is about 360 points wide; two bars per week.
	bw := vg.Points(math.Max(0.5, math.Min(12, 340/float64(len(shown))/2.4)))
	// Opened on the left; closed stacked on resolved on the right.
	if err := addBars(p, bw, -bw/2, false, []series{seriesOpened}, opened); err != nil {
		return chart{}, err
	}
	if err := addBars(p, bw, bw/2, false, []series{seriesResolved, seriesClosed}, resolved, closed); err != nil {
		return chart{}, err
	}
	// Label at most five weeks, so that the labels never run into each
	// other on a phone.
	every := max(1, (len(shown)+4)/5)
	format := "Jan 2"
	if len(shown) > 26 {
		format = "Jan 2006"
	}
	var ticks []plot.Tick
	for i, w := range shown {
		if i%every == 0 {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: w.Start.Format(format)})
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	c := chart{ID: id, Title: title, Series: []series{seriesOpened, seriesResolved, seriesClosed}}
	c.Caption = fmt.Sprintf("Per week: tickets reported (left bar) and resolutions (right bar: resolved below, closed on top), "+
		"%d weeks from %s.", len(shown), shown[0].Start.Format("2006-01-02"))
	if len(shown) < len(ws) {
		c.Caption += fmt.Sprintf(" Only the last %d of the period's %d weeks are shown.", len(shown), len(ws))
	}
	return c.render(p, chartH)
}

// resolutionChart: histogram of hours from report to resolution.
func resolutionChart(d *data) (chart, error) {
	const id, title = "resolution", "Time from report to resolution"
	if d.ResCount == 0 {
		return noData(id, title, "no ticket resolved or closed in this period yet."), nil
	}
	vals := make(plotter.Values, len(d.ResBuckets))
	names := make([]string, len(d.ResBuckets))
	for i, n := range d.ResBuckets {
		vals[i] = float64(n)
		names[i] = resolutionBuckets[i].label
	}
	p := newPlot(title, "time to resolution (h hours, d days, wk weeks, mo months, y years)", "tickets", false)
	// Twelve labels do not fit side by side on a narrow chart: slant them.
	p.X.Tick.Label.Font = font.From(sans, 10)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	if err := addBars(p, vg.Points(24), 0, false, []series{seriesResolved}, vals); err != nil {
		return chart{}, err
	}
	p.NominalX(names...)
	c := chart{ID: id, Title: title, Series: []series{{"tickets", seriesResolved.Color}}}
	c.Caption = fmt.Sprintf("%d tickets now resolved or closed, by the time from report to their (last) resolution", d.ResCount)
	if d.ResMedian != nil && d.ResP90 != nil {
		c.Caption += fmt.Sprintf("; median %s, 90th percentile %s", humanHours(*d.ResMedian), humanHours(*d.ResP90))
	}
	c.Caption += "."
	return c.render(p, chartH)
}

// humanHours writes a duration given in hours in the largest fitting unit.
func humanHours(h float64) string {
	switch {
	case h < 48:
		return fmt.Sprintf("%.1f hours", h)
	case h < 24*60:
		return fmt.Sprintf("%.1f days", h/24)
	default:
		return fmt.Sprintf("%.1f months", h/24/30.44)
	}
}

// hbarChart draws horizontal bars, one per label, the first at the bottom:
// stacks[i] in c.Series[i]'s colour, each stacked on the one before.
func hbarChart(c chart, xLabel, yLabel string, labels []string, stacks ...plotter.Values) (chart, error) {
	p := newPlot(c.Title, xLabel, yLabel, true)
	p.X.Min = 0
	if err := addBars(p, vg.Points(11), 0, true, c.Series, stacks...); err != nil {
		return chart{}, err
	}
	p.NominalY(labels...)
	return c.render(p, vg.Length(math.Max(160, 70+16*float64(len(labels)))))
}

func gamesChart(d *data) (chart, error) {
	return topChart("games", "Games with the most open tickets", d.TopGames)
}

func consolesChart(d *data) (chart, error) {
	return topChart("consoles", "Consoles with the most open tickets", d.TopConsoles)
}

// topChart is a chart of games or consoles (id: what they are).
func topChart(id, title string, rows []countRow) (chart, error) {
	if len(rows) == 0 {
		return noData(id, title, "no open or request tickets right now."), nil
	}
	n := len(rows)
	labels, counts := make([]string, n), make(plotter.Values, n)
	for i, r := range rows {
		// Largest (first) on top: hbarChart draws the first at the bottom.
		labels[n-1-i], counts[n-1-i] = truncate(r.Label, 34), float64(r.N)
	}
	c := chart{ID: id, Title: title, Series: []series{seriesTickets},
		Caption: fmt.Sprintf("The %d %s with the most tickets in state open or request now.", len(rows), id)}
	return hbarChart(c, "open or request tickets", id, labels, counts)
}

// emulatorChart splits each emulator's bar: open or request now first, then
// the other states.
func emulatorChart(d *data) (chart, error) {
	const id, title = "emulators", "Tickets by emulator"
	if len(d.Emulators) == 0 {
		return noData(id, title, "no tickets yet."), nil
	}
	n := len(d.Emulators)
	labels, backlog, other := make([]string, n), make(plotter.Values, n), make(plotter.Values, n)
	for i, r := range d.Emulators {
		j := n - 1 - i // largest (first) on top
		labels[j], backlog[j], other[j] = truncate(r.Label, 34), float64(r.Backlog), float64(r.Total-r.Backlog)
	}
	c := chart{ID: id, Title: title, Series: []series{seriesBacklog, seriesOther},
		Caption: fmt.Sprintf("All tickets ever seen for the %d emulators with the most, as named in the report notes "+
			"(all cores together); the red part is open or request now.", n)}
	return hbarChart(c, "tickets", "emulator", labels, backlog, other)
}
