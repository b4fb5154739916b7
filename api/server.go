// Package api is the HTTP surface: health, metrics, the /api/v1 JSON API (X-API-Key), the
// provider webhooks and, later, the console.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/console"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
)

// Deps is what the server needs; everything is created once per process.
type Deps struct {
	Config   config.Config
	Store    *db.Store
	Temporal client.Client
	Log      *slog.Logger
	Metrics  *metrics.App
	Gatherer prometheus.Gatherer
	// ConsoleHooks (optional) adjusts the console's dependencies after Build has wired its
	// seams (conversation and escalation actions, catalog sync, knowledge base) and before it
	// is built; tests use it, e.g. for a cheaper password hash.
	ConsoleHooks func(*console.Deps)
}

// Server owns the echo instance and the handlers' dependencies.
type Server struct {
	Deps
	Echo *echo.Echo
	// V1 is the authenticated /api/v1 group; feature packages add routes to it.
	V1 *echo.Group
	// Console is the admin console mounted under /console.
	Console *console.Console

	inbound     *Inbound
	settings    *settingsCache
	retriever   *retrieval.Retriever
	escalations *escalationAPI
}

// New builds the router with the common middleware and the foundation routes.
func New(d Deps) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 30 * time.Second
	e.Server.WriteTimeout = 5 * time.Minute // CSV exports stream
	e.Server.IdleTimeout = 2 * time.Minute
	// Client addresses come from the connection unless the peer is a trusted proxy: the
	// webhook's IP allowlist must not be fooled by a forged X-Forwarded-For.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.Config.TrustedProxies) > 0 {
		var opts []echo.TrustOption
		for _, c := range d.Config.TrustedProxies {
			if _, n, err := net.ParseCIDR(strings.TrimSpace(c)); err == nil {
				opts = append(opts, echo.TrustIPRange(n))
			}
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}

	e.Use(middleware.RequestID())
	e.Use(accessLog(d.Log))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			d.Log.Error("panic in handler", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	// The Wazzup contract caps bodies at 1 MB; nothing else we accept is larger.
	e.Use(middleware.BodyLimit("1M"))

	s := &Server{Deps: d, Echo: e, settings: &settingsCache{store: d.Store, ttl: 5 * time.Second}}
	e.GET("/health", s.health)
	e.GET("/health/ready", s.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))

	s.V1 = e.Group("/api/v1")
	s.V1.Use(s.requireAPIKey)
	s.V1.GET("/admin/settings/", s.getSettings)
	s.V1.PATCH("/admin/settings/", s.patchSettings)
	s.V1.GET("/admin/settings/changes/", s.listSettingsChanges)
	return s
}

// requireAPIKey checks X-API-Key in constant time. Webhooks live outside this group.
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	want := []byte(s.Config.APIKey.Reveal())
	return func(c echo.Context) error {
		got := []byte(c.Request().Header.Get("X-API-Key"))
		if len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
			return Errf(http.StatusUnauthorized, "unauthorized", "missing or wrong X-API-Key header")
		}
		return next(c)
	}
}

// accessLog writes one structured line per request. It logs the path, never the query
// string: webhook URLs carry their secret token there.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true,
		LogRequestID: true, LogRemoteIP: true, LogError: true, LogRoutePath: true,
		Skipper: func(c echo.Context) bool { return c.Path() == "/health" || c.Path() == "/metrics" },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			} else if v.Status >= 400 {
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method), slog.String("path", v.URIPath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID), slog.String("remote_ip", v.RemoteIP),
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("err", v.Error.Error()))
			}
			log.LogAttrs(context.Background(), level, "http request", attrs...)
			return nil
		},
	})
}

// Start serves until ctx is cancelled, then shuts down gracefully.
func (s *Server) Start(ctx context.Context, addr string) error {
	errc := make(chan error, 1)
	go func() {
		if err := s.Echo.Start(addr); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
		close(errc)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return s.Echo.Shutdown(shutdownCtx)
}

// Build is New plus every feature's routes.
func Build(d Deps) (*Server, error) {
	s := New(d)
	channels := map[string]bool{}
	for _, c := range d.Config.Wazzup.ChannelIDs {
		if c = strings.TrimSpace(c); c != "" {
			channels[c] = true
		}
	}
	s.inbound = &Inbound{
		Store: d.Store, Temporal: d.Temporal, TaskQueue: d.Config.TaskQueue, Channels: channels, Log: d.Log,
		MaxChars: func(ctx context.Context) int { return s.settings.get(ctx).Conversation.MaxInboundChars },
		OnMetric: func(r string) { d.Metrics.WebhookMessages.WithLabelValues("wazzup", r).Inc() },
	}
	s.registerWazzup()
	s.registerConversations()
	s.registerSimulator()
	s.registerProducts()
	s.registerCRM() // after registerProducts: it uses the retriever
	s.registerEscalations()
	if err := s.registerConsole(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return s, nil
}
