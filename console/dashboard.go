package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// BusinessLocation is the time zone reports use (settings.BusinessHours.TimeZone).
func (cs *Console) businessLocation(c echo.Context) *time.Location {
	rec, err := cs.Store.Settings(c.Request().Context())
	if err == nil {
		if l, err := time.LoadLocation(rec.Settings.BusinessHours.TimeZone); err == nil {
			return l
		}
	}
	return dubai
}

func (cs *Console) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.QueryParam("period")
	p, err := db.PeriodFor(name, cs.Now(), cs.businessLocation(c))
	if err != nil {
		return badRequest("%v", err)
	}
	d, err := cs.Store.Dashboard(ctx, p)
	if err != nil {
		return err
	}
	queue, err := cs.Store.EscalationCounts(ctx)
	if err != nil {
		return err
	}
	return cs.render(c, http.StatusOK, "dashboard", "Dashboard", "dashboard", map[string]any{
		"D": d, "Periods": db.Periods, "Queue": queue,
		"Activity": seriesChart(d.Series, p.Bucket == time.Hour),
		"Reasons":  countsChart(d.EscalationsByReason),
		"Langs":    countsChart(d.ByLanguage),
	})
}

// The charts are plain SVG computed here: no script, no inline style (presentation
// attributes only), so they pass the strict CSP.

type bar struct {
	X, Y, W, H     float64
	Label, Value   string
	LabelX, LabelY float64
	ValueX, ValueY float64
}

type chart struct {
	W, H  int
	Bars  []bar
	Empty bool
	Title string
}

func seriesChart(points []db.SeriesPoint, hourly bool) chart {
	ch := chart{W: 720, H: 200}
	n := len(points)
	if n == 0 {
		ch.Empty = true
		return ch
	}
	maxV := 0
	for _, p := range points {
		maxV = max(maxV, p.Conversations)
	}
	ch.Empty = maxV == 0
	plotH := float64(ch.H - 40)
	slot := float64(ch.W) / float64(n)
	labelEvery := 1
	if n > 12 {
		labelEvery = (n + 11) / 12
	}
	for i, p := range points {
		h := 0.0
		if maxV > 0 {
			h = plotH * float64(p.Conversations) / float64(maxV)
		}
		b := bar{X: float64(i)*slot + slot*0.15, W: slot * 0.7, H: h, Y: 10 + plotH - h,
			Value: fmt.Sprint(p.Conversations), LabelX: float64(i)*slot + slot/2, LabelY: float64(ch.H - 12)}
		b.ValueY = b.Y - 3
		if i%labelEvery == 0 {
			if hourly {
				b.Label = p.Start.Format("15h")
			} else {
				b.Label = p.Start.Format("02 Jan")
			}
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

func countsChart(counts []db.Count) chart {
	ch := chart{W: 360}
	ch.H = 28*len(counts) + 8
	maxV := 0
	for _, c := range counts {
		maxV = max(maxV, c.Count)
	}
	ch.Empty = maxV == 0
	for i, c := range counts {
		w := 0.0
		if maxV > 0 {
			w = 200 * float64(c.Count) / float64(maxV)
		}
		label := c.Label
		if label == "" {
			label = "(none)"
		}
		ch.Bars = append(ch.Bars, bar{X: 130, Y: float64(i*28 + 6), W: w, H: 18, Label: label,
			Value: fmt.Sprint(c.Count), LabelX: 124, LabelY: float64(i*28 + 19), ValueX: 136 + w})
	}
	return ch
}
