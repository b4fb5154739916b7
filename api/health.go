package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Check is one dependency's state in /health/ready.
type Check struct {
	Status    string  `json:"status"` // up | down
	LatencyMS float64 `json:"latency_ms"`
	Detail    string  `json:"detail,omitempty"`
}

// Readiness is the /health/ready body.
type Readiness struct {
	Status string           `json:"status"` // ready | not_ready
	Checks map[string]Check `json:"checks"`
}

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready reports PostgreSQL, Temporal and whether a worker polls our task queue, each with
// its latency. 503 when any is down, so load balancers and compose health checks wait.
func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	r := Readiness{Status: "ready", Checks: map[string]Check{}}
	record := func(name string, start time.Time, err error, detail string) {
		ch := Check{Status: "up", LatencyMS: float64(time.Since(start).Microseconds()) / 1000, Detail: detail}
		if err != nil {
			ch.Status, ch.Detail = "down", err.Error()
			r.Status = "not_ready"
		}
		r.Checks[name] = ch
	}

	start := time.Now()
	_, err := s.Store.Ping(ctx)
	record("postgres", start, err, "")

	start = time.Now()
	_, err = s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	record("temporal", start, err, "")

	start = time.Now()
	detail, err := s.workerPolling(ctx)
	record("worker", start, err, detail)

	status := http.StatusOK
	if r.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, r)
}

// workerPolling asks Temporal whether some worker polled our task queue recently.
func (s *Server) workerPolling(ctx context.Context) (string, error) {
	resp, err := s.Temporal.DescribeTaskQueue(ctx, s.Config.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return "", err
	}
	fresh := 0
	for _, p := range resp.GetPollers() {
		if t := p.GetLastAccessTime(); t != nil && time.Since(t.AsTime()) < 2*time.Minute {
			fresh++
		}
	}
	if fresh == 0 {
		return "", errNoWorker{queue: s.Config.TaskQueue}
	}
	return itoa(fresh) + " poller(s) on task queue " + s.Config.TaskQueue, nil
}

type errNoWorker struct{ queue string }

func (e errNoWorker) Error() string {
	return "no worker has polled task queue " + e.queue + " in the last 2 minutes (start `noor worker`)"
}
