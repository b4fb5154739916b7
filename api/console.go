package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/console"
	"github.com/treejar/noor/db"
)

// registerConsole mounts the admin console under /console (bootstrapping the admin user
// and the prompts) and the admin JSON API for prompts and metrics.
func (s *Server) registerConsole() error {
	d := console.Deps{Config: s.Config, Store: s.Store, Log: s.Log.With("component", "console")}
	s.wireConsole(&d)
	if s.ConsoleHooks != nil {
		s.ConsoleHooks(&d)
	}
	cs, err := console.New(d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cs.Bootstrap(ctx); err != nil {
		return err
	}
	cs.Mount(s.Echo)
	s.Console = cs

	s.V1.GET("/admin/prompts/", s.listPrompts)
	s.V1.GET("/admin/prompts/:id", s.getPrompt)
	s.V1.PUT("/admin/prompts/:id", s.putPrompt)
	s.V1.POST("/admin/prompts/:id/rollback", s.rollbackPrompt)
	s.V1.GET("/admin/metrics/", s.getMetrics)
	return nil
}

func apiActor(c echo.Context) string {
	if by := c.Request().Header.Get("X-Actor"); by != "" && len(by) <= 100 {
		return by
	}
	return "api-key"
}

func apiAudit(c echo.Context, action string) db.AuditEntry {
	return db.AuditEntry{Actor: apiActor(c), Role: "api", Action: action, RemoteIP: c.RealIP()}
}

func (s *Server) listPrompts(c echo.Context) error {
	list, err := s.Store.Prompts(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"prompts": list})
}

func (s *Server) getPrompt(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.Store.PromptByName(ctx, c.Param("id"))
	if errors.Is(err, db.ErrNotFound) {
		return Errf(http.StatusNotFound, "not_found", "no prompt "+c.Param("id"))
	}
	if err != nil {
		return err
	}
	versions, err := s.Store.PromptVersions(ctx, p.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"prompt": p, "versions": versions})
}

// PromptPut is the body of PUT /api/v1/admin/prompts/{id}.
type PromptPut struct {
	Text string `json:"text"`
	Note string `json:"note"`
	// ExpectVersion (optional) is the active version the edit started from; a different
	// active version is a 409.
	ExpectVersion int `json:"expect_version"`
}

func decodeStrict(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return BadRequest("(body)", "could not read the request body")
	}
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("(body)", "invalid JSON: "+err.Error())
	}
	return nil
}

// putPrompt stores a new active version. Putting the active text again changes nothing
// and answers 200 (PUT is idempotent).
func (s *Server) putPrompt(c echo.Context) error {
	ctx := c.Request().Context()
	var in PromptPut
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	switch {
	case in.Text == "":
		return BadRequest("text", "required")
	case len(in.Text) > console.MaxPromptBytes:
		return BadRequest("text", fmt.Sprintf("at most %d bytes", console.MaxPromptBytes))
	case len(in.Note) > 500:
		return BadRequest("note", "at most 500 characters")
	}
	if in.Note == "" {
		in.Note = "updated through the API"
	}
	name := c.Param("id")
	v, err := s.Store.SavePrompt(ctx, name, in.Text, apiActor(c), in.Note, in.ExpectVersion, apiAudit(c, "prompt.save"))
	created := true
	switch {
	case errors.Is(err, db.ErrNotFound):
		return Errf(http.StatusNotFound, "not_found", "no prompt "+name)
	case errors.Is(err, db.ErrPromptVersionConflict):
		return Errf(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, db.ErrPromptUnchanged):
		created = false
	case err != nil:
		return err
	}
	p, err := s.Store.PromptByName(ctx, name)
	if err != nil {
		return err
	}
	if created {
		s.Log.Info("prompt changed", "prompt", name, "version", v.Version, "by", apiActor(c))
	}
	return c.JSON(http.StatusOK, map[string]any{"prompt": p, "created_version": created})
}

func (s *Server) rollbackPrompt(c echo.Context) error {
	ctx := c.Request().Context()
	var in struct {
		Version       int `json:"version"`
		ExpectVersion int `json:"expect_version"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return BadRequest("version", "the version to roll back to (1 or more)")
	}
	name := c.Param("id")
	_, err := s.Store.RollbackPrompt(ctx, name, in.Version, apiActor(c), in.ExpectVersion, apiAudit(c, "prompt.rollback"))
	switch {
	case errors.Is(err, db.ErrNotFound):
		return Errf(http.StatusNotFound, "not_found", fmt.Sprintf("no prompt %s or no version %d", name, in.Version))
	case errors.Is(err, db.ErrPromptVersionConflict), errors.Is(err, db.ErrPromptUnchanged):
		return Errf(http.StatusConflict, "conflict", err.Error())
	case err != nil:
		return err
	}
	p, err := s.Store.PromptByName(ctx, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"prompt": p})
}

// getMetrics returns the dashboard's numbers for ?period=today|week|month.
func (s *Server) getMetrics(c echo.Context) error {
	ctx := c.Request().Context()
	loc := time.UTC
	if rec, err := s.Store.Settings(ctx); err == nil {
		if l, err := time.LoadLocation(rec.Settings.BusinessHours.TimeZone); err == nil {
			loc = l
		}
	}
	p, err := db.PeriodFor(c.QueryParam("period"), time.Now(), loc)
	if err != nil {
		return BadRequest("period", err.Error())
	}
	d, err := s.Store.Dashboard(ctx, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
