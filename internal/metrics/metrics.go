// Package metrics exposes Prometheus metrics: the Temporal SDK's own (through a
// client.MetricsHandler adapter) and the application's counters.
package metrics

import (
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
)

// Registry is the process-wide registry with Go and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// App holds the application's own metrics.
type App struct {
	WebhookMessages *prometheus.CounterVec // result: accepted|duplicate|ignored|invalid
	WebhookErrors   *prometheus.CounterVec // reason
	WebhookLatency  prometheus.Histogram
	Sends           *prometheus.CounterVec // provider, result
	LLMCalls        *prometheus.CounterVec // model, result
	LLMCostUSD      *prometheus.CounterVec // model
	Alerts          *prometheus.CounterVec // channel, result
}

// NewApp registers the application metrics on r.
func NewApp(r prometheus.Registerer) *App {
	a := &App{
		WebhookMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_webhook_messages_total", Help: "Inbound webhook items by outcome."}, []string{"source", "result"}),
		WebhookErrors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_webhook_errors_total", Help: "Webhook bodies or items rejected, by reason."}, []string{"source", "reason"}),
		WebhookLatency:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "noor_webhook_duration_seconds", Help: "Webhook handling time.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		Sends:           prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_outbound_messages_total", Help: "Outbound sends by provider and result."}, []string{"provider", "result"}),
		LLMCalls:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_llm_calls_total", Help: "LLM calls by model and result."}, []string{"model", "result"}),
		LLMCostUSD:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_llm_cost_usd_total", Help: "LLM spend in USD."}, []string{"model"}),
		Alerts:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "noor_alerts_total", Help: "Manager alerts by channel and result."}, []string{"channel", "result"}),
	}
	r.MustRegister(a.WebhookMessages, a.WebhookErrors, a.WebhookLatency, a.Sends, a.LLMCalls, a.LLMCostUSD, a.Alerts)
	return a
}

// TemporalHandler adapts the SDK's metrics to Prometheus. A metric's label names are fixed
// by the first call that creates it; later calls with other tag keys are mapped onto that
// set (missing labels empty, extra ones dropped) instead of failing.
type TemporalHandler struct {
	reg  prometheus.Registerer
	tags map[string]string
	s    *vecs
}

type vecs struct {
	mu     sync.Mutex
	counts map[string]*labeled[*prometheus.CounterVec]
	gauges map[string]*labeled[*prometheus.GaugeVec]
	hists  map[string]*labeled[*prometheus.HistogramVec]
}

type labeled[V any] struct {
	vec    V
	labels []string
}

// NewTemporalHandler returns a client.MetricsHandler that registers on reg.
func NewTemporalHandler(reg prometheus.Registerer) *TemporalHandler {
	return &TemporalHandler{reg: reg, tags: map[string]string{}, s: &vecs{
		counts: map[string]*labeled[*prometheus.CounterVec]{},
		gauges: map[string]*labeled[*prometheus.GaugeVec]{},
		hists:  map[string]*labeled[*prometheus.HistogramVec]{},
	}}
}

var _ client.MetricsHandler = (*TemporalHandler)(nil)

func (h *TemporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[sanitize(k)] = v
	}
	return &TemporalHandler{reg: h.reg, tags: merged, s: h.s}
}

func (h *TemporalHandler) labelNames() []string {
	names := make([]string, 0, len(h.tags))
	for k := range h.tags {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (h *TemporalHandler) values(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = h.tags[l]
	}
	return out
}

func (h *TemporalHandler) Counter(name string) client.MetricsCounter {
	name = sanitize(name)
	h.s.mu.Lock()
	l, ok := h.s.counts[name]
	if !ok {
		labels := h.labelNames()
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Temporal SDK counter " + name}, labels)
		if err := h.reg.Register(v); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				v = are.ExistingCollector.(*prometheus.CounterVec)
			}
		}
		l = &labeled[*prometheus.CounterVec]{vec: v, labels: labels}
		h.s.counts[name] = l
	}
	h.s.mu.Unlock()
	return counter{l.vec.WithLabelValues(h.values(l.labels)...)}
}

func (h *TemporalHandler) Gauge(name string) client.MetricsGauge {
	name = sanitize(name)
	h.s.mu.Lock()
	l, ok := h.s.gauges[name]
	if !ok {
		labels := h.labelNames()
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK gauge " + name}, labels)
		if err := h.reg.Register(v); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				v = are.ExistingCollector.(*prometheus.GaugeVec)
			}
		}
		l = &labeled[*prometheus.GaugeVec]{vec: v, labels: labels}
		h.s.gauges[name] = l
	}
	h.s.mu.Unlock()
	return gauge{l.vec.WithLabelValues(h.values(l.labels)...)}
}

func (h *TemporalHandler) Timer(name string) client.MetricsTimer {
	name = sanitize(name) + "_seconds"
	h.s.mu.Lock()
	l, ok := h.s.hists[name]
	if !ok {
		labels := h.labelNames()
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: "Temporal SDK timer " + name, Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)}, labels)
		if err := h.reg.Register(v); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				v = are.ExistingCollector.(*prometheus.HistogramVec)
			}
		}
		l = &labeled[*prometheus.HistogramVec]{vec: v, labels: labels}
		h.s.hists[name] = l
	}
	h.s.mu.Unlock()
	return timer{l.vec.WithLabelValues(h.values(l.labels)...)}
}

type counter struct{ c prometheus.Counter }

func (c counter) Inc(n int64) { c.c.Add(float64(n)) }

type gauge struct{ g prometheus.Gauge }

func (g gauge) Update(v float64) { g.g.Set(v) }

type timer struct{ o prometheus.Observer }

func (t timer) Record(d time.Duration) { t.o.Observe(d.Seconds()) }

var invalid = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func sanitize(s string) string { return invalid.ReplaceAllString(s, "_") }
