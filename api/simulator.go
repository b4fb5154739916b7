package api

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/db"
)

//go:embed static
var staticFiles embed.FS

// registerSimulator mounts the built-in messaging provider: a page where a person chats as a
// WhatsApp customer. Its messages are Wazzup-shaped webhook bodies handled by the same code
// as the real webhook, on the "simulator" channel. Off in production.
func (s *Server) registerSimulator() {
	if s.Config.Production() {
		return
	}
	sub, _ := fs.Sub(staticFiles, "static")
	assets := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	s.Echo.GET("/static/*", echo.WrapHandler(assets), securityHeaders)
	s.Echo.GET("/simulator", func(c echo.Context) error {
		b, err := fs.ReadFile(sub, "simulator.html")
		if err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, b)
	}, securityHeaders)
	g := s.Echo.Group("/simulator/api")
	g.GET("/info", s.simulatorInfo)
	g.POST("/messages", s.simulatorSend)
	g.GET("/messages", s.simulatorMessages)
}

// securityHeaders: a strict CSP (no inline script or style), no framing, no sniffing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

// SimulatorInfo tells the page which providers are live.
type SimulatorInfo struct {
	LLM           string            `json:"llm"`
	LLMConfigured bool              `json:"llm_configured"`
	Model         string            `json:"model"`
	Providers     map[string]string `json:"providers"`
	TemporalUI    string            `json:"temporal_ui"`
}

func (s *Server) simulatorInfo(c echo.Context) error {
	info := SimulatorInfo{LLMConfigured: s.Config.LLM.Configured(), Providers: s.Config.Providers(), TemporalUI: s.Config.TemporalUIURL}
	if info.LLMConfigured {
		info.LLM, info.Model = s.Config.LLM.BaseURL, s.Config.LLM.Model
	} else {
		info.LLM = "not configured (LLM_API_KEY is empty): Noor answers with the fixed apology and flags the chat for a human"
	}
	return c.JSON(http.StatusOK, info)
}

// SimulatorMessage is what the page posts.
type SimulatorMessage struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
	Text  string `json:"text"`
}

func normalisePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Server) simulatorSend(c echo.Context) error {
	var m SimulatorMessage
	if err := bindStrict(c, &m); err != nil {
		return err
	}
	phone := normalisePhone(m.Phone)
	if len(phone) < 8 || len(phone) > 15 {
		return BadRequest("phone", "must have 8 to 15 digits, e.g. 971501234567")
	}
	if strings.TrimSpace(m.Text) == "" {
		return BadRequest("text", "is empty")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	msg := map[string]any{
		"messageId": "sim-" + hex.EncodeToString(id), "channelId": activities.SimulatorChannel, "chatType": "whatsapp",
		"chatId": phone, "dateTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "type": "text",
		"status": "inbound", "authorType": "client", "text": m.Text, "contact": map[string]string{"name": m.Name},
	}
	body, _ := json.Marshal(map[string]any{"messages": []any{msg}})
	// The same handler as POST /api/v1/webhook/wazzup (minus its token check).
	return s.handleWazzupBody(c, body)
}

// SimulatorThread is the chat as the page shows it.
type SimulatorThread struct {
	ConversationID string       `json:"conversation_id"`
	WorkflowURL    string       `json:"workflow_url,omitempty"`
	Stage          string       `json:"stage"`
	Owner          string       `json:"owner"`
	Status         string       `json:"status"`
	Language       string       `json:"language"`
	Messages       []db.Message `json:"messages"`
}

func (s *Server) simulatorMessages(c echo.Context) error {
	phone := normalisePhone(c.QueryParam("phone"))
	if phone == "" {
		return BadRequest("phone", "is required")
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	ctx := c.Request().Context()
	conv, err := s.Store.ConversationByChat(ctx, activities.SimulatorChannel, phone)
	if err == db.ErrNotFound {
		return c.JSON(http.StatusOK, SimulatorThread{Messages: []db.Message{}})
	}
	if err != nil {
		return err
	}
	msgs, err := s.Store.Messages(ctx, conv.ID, after, 0)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []db.Message{}
	}
	t := SimulatorThread{ConversationID: conv.ID, Stage: conv.Stage, Owner: conv.Owner, Status: conv.Status, Language: conv.Language, Messages: msgs}
	if s.Config.TemporalUIURL != "" {
		t.WorkflowURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(s.Config.TemporalUIURL, "/"), s.Config.TemporalNamespace, conv.WorkflowID)
	}
	return c.JSON(http.StatusOK, t)
}
