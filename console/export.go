package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// csvWriter streams rows to the response, flushing every few rows so a large export never
// sits in memory, and neutralises cells a spreadsheet would run as a formula.
type csvWriter struct {
	c   echo.Context
	w   *csv.Writer
	n   int
	err error
}

func newCSV(c echo.Context, filename string, header []string) *csvWriter {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	// A UTF-8 byte-order mark makes Excel read Arabic text correctly.
	_, _ = c.Response().Write([]byte("\xEF\xBB\xBF"))
	cw := &csvWriter{c: c, w: csv.NewWriter(c.Response())}
	cw.row(header...)
	return cw
}

func (cw *csvWriter) row(cells ...string) error {
	for i, s := range cells {
		cells[i] = defuseFormula(s)
	}
	if err := cw.w.Write(cells); err != nil {
		return err
	}
	cw.n++
	if cw.n%200 == 0 {
		cw.w.Flush()
		cw.c.Response().Flush()
	}
	return cw.w.Error()
}

func (cw *csvWriter) close() {
	cw.w.Flush()
	cw.c.Response().Flush()
}

// defuseFormula prefixes cells starting with = + - @ (or tab/CR) with a quote: customer
// text must not become a formula in the manager's spreadsheet.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

func f64(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func f64p(v *float64) string {
	if v == nil {
		return ""
	}
	return f64(*v)
}

var exports = []string{"conversations.csv", "messages.csv", "escalations.csv", "quality_reviews.csv"}

// export streams a CSV with the filters of the page it was started from.
func (cs *Console) export(c echo.Context) error {
	what := c.Param("what")
	if !slices.Contains(exports, what) {
		return errNotFound
	}
	ctx := c.Request().Context()
	var err error
	var escFilter db.EscalationRowFilter
	var f db.ConversationFilter
	if what == "escalations.csv" {
		st := c.QueryParam("status")
		if st == "all" {
			st = ""
		}
		if st != "" && !slices.Contains(db.EscalationStatuses, st) {
			return badRequest("Unknown status %q.", st)
		}
		escFilter.Status = st
	} else {
		if f, _, err = cs.parseConversationFilter(c); err != nil {
			return err
		}
		f.Limit, f.Offset = 0, 0
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "export."+strings.TrimSuffix(what, ".csv"), c.QueryString()), nil, nil); err != nil {
		return err
	}
	name := fmt.Sprintf("noor-%s-%s", strings.TrimSuffix(what, ".csv"), cs.Now().In(dubai).Format("20060102-1504")) + ".csv"
	switch what {
	case "conversations.csv":
		cw := newCSV(c, name, []string{"id", "customer_name", "phone", "company", "language", "stage", "status", "owner",
			"needs_human", "created_at", "last_message_at", "messages", "escalations", "has_quote", "llm_cost_usd"})
		err = cs.Store.StreamConversations(ctx, f, func(r db.ConversationRow) error {
			return cw.row(r.ID, r.CustomerName, r.ChatID, r.Company, r.Language, r.Stage, r.Status, r.Owner,
				strconv.FormatBool(r.NeedsHuman), ts(r.CreatedAt), tsp(r.LastMessageAt), strconv.Itoa(r.Messages),
				strconv.Itoa(r.Escalations), strconv.FormatBool(r.HasQuote), f64(r.CostUSD))
		})
		cw.close()
	case "messages.csv":
		cw := newCSV(c, name, []string{"conversation_id", "message_id", "created_at", "direction", "author", "author_name",
			"kind", "text", "media_url", "language", "model", "prompt_tokens", "completion_tokens", "cost_usd", "delivery_status"})
		err = cs.Store.StreamMessages(ctx, f, func(m db.ThreadMessage) error {
			return cw.row(m.ConversationID, strconv.FormatInt(m.ID, 10), ts(m.CreatedAt), m.Direction, m.Author, m.AuthorName,
				m.Kind, m.Text, m.MediaURL, m.Language, m.Model, strconv.Itoa(m.PromptTokens), strconv.Itoa(m.CompletionTokens),
				f64(m.CostUSD), m.DeliveryStatus)
		})
		cw.close()
	case "escalations.csv":
		cw := newCSV(c, name, []string{"id", "conversation_id", "customer_name", "episode", "kind", "reason", "triggered_by",
			"status", "taken_by", "resolved_by", "resolution_note", "created_at", "taken_at", "resolved_at"})
		err = cs.Store.StreamEscalations(ctx, escFilter, func(e db.EscalationRow) error {
			return cw.row(strconv.FormatInt(e.ID, 10), e.ConversationID, e.CustomerName, strconv.Itoa(e.Episode), e.Kind,
				e.Reason, e.TriggeredBy, e.Status, e.TakenBy, e.ResolvedBy, e.ResolutionNote, ts(e.CreatedAt),
				tsp(e.TakenAt), tsp(e.ResolvedAt))
		})
		cw.close()
	case "quality_reviews.csv":
		cw := newCSV(c, name, []string{"id", "conversation_id", "kind", "total_score", "max_score", "band", "scores",
			"strengths", "weaknesses", "recommendations", "model", "cost_usd", "created_at"})
		err = cs.Store.StreamQualityReviews(ctx, f, func(r db.QualityReviewRow) error {
			return cw.row(strconv.FormatInt(r.ID, 10), r.ConversationID, r.Kind, f64p(r.TotalScore), f64p(r.MaxScore), r.Band,
				string(r.Scores), string(r.Strengths), string(r.Weaknesses), string(r.Recommendation), r.Model,
				f64(r.CostUSD), ts(r.CreatedAt))
		})
		cw.close()
	}
	if err != nil {
		// The header is sent; the truncated file ends with a line saying so.
		cs.Log.Error("CSV export failed part-way", "export", what, "err", err)
		_, _ = c.Response().Write([]byte("\nEXPORT FAILED PART-WAY: see the server log\n"))
	}
	return nil
}
