package codecserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the handler's Prometheus series, kept in a registry of its
// own. Labels take values from small fixed sets only (route, status code,
// outcome), never from a request's namespace or path, so a client cannot
// grow them.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	payloads *prometheus.CounterVec
	inFlight prometheus.Gauge
	queued   prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "codec_server_requests_total",
			Help: "Requests answered, by route, HTTP status and outcome.",
		}, []string{"route", "code", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "codec_server_request_duration_seconds",
			Help:    "Time from request start to response, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		payloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "codec_server_payloads_total",
			Help: "Payloads processed, by route and result (ok or failed).",
		}, []string{"route", "result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "codec_server_in_flight_requests",
			Help: "Encode and decode requests being processed.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "codec_server_queued_requests",
			Help: "Requests waiting for a processing slot.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.payloads, m.inFlight, m.queued,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, status int, outcome string, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status), outcome).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// MetricsHandler serves the handler's metrics in the Prometheus text
// format: request counts by route, status and outcome, latency, payload
// counts, requests in flight and queued, and the Go runtime and process
// collectors. Serve it on a separate, internal address; it needs no
// authentication and reveals no request content.
func (h *Handler) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})
}
