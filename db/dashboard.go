package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Period is a reporting window [From, To) with the bucket size of its chart.
type Period struct {
	Name   string        `json:"name"` // today | week | month
	From   time.Time     `json:"from"`
	To     time.Time     `json:"to"`
	Bucket time.Duration `json:"-"`
	loc    *time.Location
}

// Periods are the names PeriodFor accepts.
var Periods = []string{"today", "week", "month"}

// PeriodFor resolves a period name at now in the business time zone: "today" since local
// midnight (hourly buckets), "week" the last 7 local days including today, "month" the last
// 30 (daily buckets).
func PeriodFor(name string, now time.Time, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	p := Period{Name: name, To: now, loc: loc}
	switch name {
	case "today", "":
		p.Name, p.From, p.Bucket = "today", midnight, time.Hour
	case "week":
		p.From, p.Bucket = midnight.AddDate(0, 0, -6), 24*time.Hour
	case "month":
		p.From, p.Bucket = midnight.AddDate(0, 0, -29), 24*time.Hour
	default:
		return p, fmt.Errorf("unknown period %q (use today, week or month)", name)
	}
	return p, nil
}

// Count is a labelled number.
type Count struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Percentiles of a duration distribution, in seconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_seconds"`
	P90   float64 `json:"p90_seconds"`
	P95   float64 `json:"p95_seconds"`
	Avg   float64 `json:"avg_seconds"`
}

// SeriesPoint is one chart bucket.
type SeriesPoint struct {
	Start         time.Time `json:"start"`
	Conversations int       `json:"conversations"`
	Escalations   int       `json:"escalations"`
}

// Dashboard is the metrics of one period. Every number is computed from the tables; a
// number whose table has not landed yet is 0 and its source says "not_available".
type Dashboard struct {
	Period Period `json:"period"`
	// Conversations with at least one message in the period; of those, NewCustomers began
	// in the period and ReturningCustomers earlier.
	Conversations      int     `json:"conversations"`
	NewConversations   int     `json:"new_conversations"`
	NewCustomers       int     `json:"new_customers"`
	ReturningCustomers int     `json:"returning_customers"`
	Messages           int     `json:"messages"`
	CustomerMessages   int     `json:"customer_messages"`
	ByLanguage         []Count `json:"by_language"`

	Escalations         int     `json:"escalations"`
	EscalationsByReason []Count `json:"escalations_by_reason"`

	QuotesSent int     `json:"quotes_sent"`
	Deals      int     `json:"deals"`
	Conversion float64 `json:"conversion"` // deals / new conversations

	LLMCostUSD     float64 `json:"llm_cost_usd"`
	ReplyCostUSD   float64 `json:"reply_cost_usd"`
	QualityCostUSD float64 `json:"quality_cost_usd"`

	ReplyTime         Percentiles `json:"bot_reply_time"`
	AvgDurationSecond float64     `json:"avg_duration_seconds"`
	QualityReviews    int         `json:"quality_reviews"`
	QualityAvgScore   *float64    `json:"quality_avg_score"`

	Series []SeriesPoint `json:"series"`
	// Sources says where the numbers that depend on other features come from.
	Sources map[string]string `json:"sources"`
}

// Dashboard computes the metrics for p.
func (s *Store) Dashboard(ctx context.Context, p Period) (Dashboard, error) {
	d := Dashboard{Period: p, Sources: map[string]string{
		"quotes_sent": "outbound_ledger: quotation PDFs (documents) sent",
		"deals":       "local_crm_deals (built-in CRM)",
	}}
	from, to := p.From, p.To

	err := s.Pool.QueryRow(ctx, `
		WITH active AS (
		    SELECT DISTINCT m.conversation_id FROM messages m WHERE m.created_at >= $1 AND m.created_at < $2)
		SELECT (SELECT count(*) FROM active),
		       (SELECT count(*) FROM active a JOIN conversations c ON c.id = a.conversation_id WHERE c.created_at >= $1),
		       (SELECT count(*) FROM active a JOIN conversations c ON c.id = a.conversation_id WHERE c.created_at < $1),
		       (SELECT count(*) FROM conversations WHERE created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM messages WHERE created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM messages WHERE author = 'customer' AND created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM escalations WHERE created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM outbound_ledger WHERE kind = 'document' AND status IN ('sent', 'delivered', 'read')
		            AND created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM local_crm_deals WHERE created_at >= $1 AND created_at < $2),
		       (SELECT coalesce(sum(cost_usd), 0)::float8 FROM messages WHERE created_at >= $1 AND created_at < $2),
		       (SELECT coalesce(sum(cost_usd), 0)::float8 FROM quality_reviews WHERE created_at >= $1 AND created_at < $2),
		       (SELECT count(*) FROM quality_reviews WHERE created_at >= $1 AND created_at < $2),
		       (SELECT avg(total_score)::float8 FROM quality_reviews WHERE created_at >= $1 AND created_at < $2 AND total_score IS NOT NULL),
		       (SELECT coalesce(avg(extract(epoch FROM coalesce(last_message_at, created_at) - created_at)), 0)::float8
		            FROM conversations WHERE created_at >= $1 AND created_at < $2)`, from, to).
		Scan(&d.Conversations, &d.NewCustomers, &d.ReturningCustomers, &d.NewConversations, &d.Messages,
			&d.CustomerMessages, &d.Escalations, &d.QuotesSent, &d.Deals, &d.ReplyCostUSD, &d.QualityCostUSD,
			&d.QualityReviews, &d.QualityAvgScore, &d.AvgDurationSecond)
	if err != nil {
		return d, fmt.Errorf("dashboard counts: %w", err)
	}
	d.LLMCostUSD = d.ReplyCostUSD + d.QualityCostUSD
	if d.NewConversations > 0 {
		d.Conversion = float64(d.Deals) / float64(d.NewConversations)
	}

	if d.EscalationsByReason, err = s.counts(ctx, `SELECT kind, count(*)::int FROM escalations
		WHERE created_at >= $1 AND created_at < $2 GROUP BY kind ORDER BY count(*) DESC, kind`, from, to); err != nil {
		return d, fmt.Errorf("escalations by reason: %w", err)
	}
	if d.ByLanguage, err = s.counts(ctx, `SELECT c.language, count(DISTINCT c.id)::int FROM conversations c
		JOIN messages m ON m.conversation_id = c.id WHERE m.created_at >= $1 AND m.created_at < $2
		GROUP BY c.language ORDER BY c.language`, from, to); err != nil {
		return d, fmt.Errorf("conversations by language: %w", err)
	}

	// Bot reply time: from the customer's last message of a burst to Noor's first answer
	// (a Noor message whose previous message in the chat is the customer's).
	err = s.Pool.QueryRow(ctx, `
		SELECT count(*)::int,
		       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY secs), 0)::float8,
		       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY secs), 0)::float8,
		       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY secs), 0)::float8,
		       coalesce(avg(secs), 0)::float8
		FROM (
		    SELECT extract(epoch FROM o.created_at - prev.created_at)::float8 AS secs
		    FROM messages o
		    JOIN LATERAL (SELECT p.author, p.created_at FROM messages p
		                  WHERE p.conversation_id = o.conversation_id AND p.id < o.id
		                  ORDER BY p.id DESC LIMIT 1) prev ON true
		    WHERE o.author = 'noor' AND prev.author = 'customer' AND o.created_at >= $1 AND o.created_at < $2
		) t`, from, to).Scan(&d.ReplyTime.Count, &d.ReplyTime.P50, &d.ReplyTime.P90, &d.ReplyTime.P95, &d.ReplyTime.Avg)
	if err != nil {
		return d, fmt.Errorf("reply time: %w", err)
	}

	d.Series, err = s.series(ctx, p)
	if err != nil {
		return d, err
	}
	return d, nil
}

func (s *Store) counts(ctx context.Context, q string, args ...any) ([]Count, error) {
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Count])
	if out == nil {
		out = []Count{}
	}
	return out, err
}

// series buckets active conversations and escalations over the period in its time zone.
func (s *Store) series(ctx context.Context, p Period) ([]SeriesPoint, error) {
	unit := "day"
	if p.Bucket == time.Hour {
		unit = "hour"
	}
	tz := "UTC"
	if p.loc != nil {
		tz = p.loc.String()
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT b, sum(conv)::int, sum(esc)::int FROM (
		    SELECT date_trunc($3, m.created_at AT TIME ZONE $4) AS b, count(DISTINCT m.conversation_id) AS conv, 0 AS esc
		    FROM messages m WHERE m.created_at >= $1 AND m.created_at < $2 GROUP BY 1
		    UNION ALL
		    SELECT date_trunc($3, e.created_at AT TIME ZONE $4), 0, count(*)
		    FROM escalations e WHERE e.created_at >= $1 AND e.created_at < $2 GROUP BY 1
		) t GROUP BY b`, p.From, p.To, unit, tz)
	if err != nil {
		return nil, fmt.Errorf("dashboard series: %w", err)
	}
	type row struct {
		B    time.Time
		Conv int
		Esc  int
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, fmt.Errorf("dashboard series: %w", err)
	}
	loc := p.loc
	if loc == nil {
		loc = time.UTC
	}
	byKey := map[string]row{}
	for _, r := range list {
		// AT TIME ZONE yields a local wall time (timestamp without zone), read back as UTC.
		byKey[r.B.Format("2006-01-02T15")] = r
	}
	var out []SeriesPoint
	for t := p.From.In(loc); t.Before(p.To); {
		k := t.Format("2006-01-02T15")
		r := byKey[k]
		out = append(out, SeriesPoint{Start: t, Conversations: r.Conv, Escalations: r.Esc})
		if p.Bucket == time.Hour {
			t = t.Add(time.Hour)
		} else {
			t = t.AddDate(0, 0, 1)
		}
	}
	return out, nil
}

// ProviderStatus is the last known state of one external provider.
type ProviderStatus struct {
	Name        string     `json:"name"`
	LastOKAt    *time.Time `json:"last_ok_at"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// RecordProviderResult notes a call's outcome for the providers panel (err nil = success).
// Activities call it after talking to Wazzup, the LLM, Zoho, Telegram or the embeddings
// server; it is cheap and never fails the caller's work.
func (s *Store) RecordProviderResult(ctx context.Context, name string, callErr error) error {
	var err error
	if callErr == nil {
		_, err = s.Pool.Exec(ctx, `INSERT INTO provider_status (name, last_ok_at, updated_at) VALUES ($1, now(), now())
			ON CONFLICT (name) DO UPDATE SET last_ok_at = now(), updated_at = now()`, name)
	} else {
		msg := callErr.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		_, err = s.Pool.Exec(ctx, `INSERT INTO provider_status (name, last_error, last_error_at, updated_at) VALUES ($1, $2, now(), now())
			ON CONFLICT (name) DO UPDATE SET last_error = $2, last_error_at = now(), updated_at = now()`, name, msg)
	}
	if err != nil {
		return fmt.Errorf("record provider status: %w", err)
	}
	return nil
}

// NoteProviderResult is RecordProviderResult for the call sites in activities: it outlives
// a cancelled caller briefly and never fails it (the panel is a diagnosis aid; the call's own
// error handling stays where it is). Names are those of config.Providers.
func (s *Store) NoteProviderResult(ctx context.Context, name string, callErr error) {
	if s == nil || s.Pool == nil || errors.Is(callErr, context.Canceled) {
		return // a call we cancelled says nothing about the provider
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.RecordProviderResult(rctx, name, callErr); err != nil {
		slog.Default().Warn("provider status not recorded", "provider", name, "err", err)
	}
}

// ProviderStatuses returns the recorded state per provider name.
func (s *Store) ProviderStatuses(ctx context.Context) (map[string]ProviderStatus, error) {
	rows, err := s.Pool.Query(ctx, `SELECT name, last_ok_at, last_error, last_error_at FROM provider_status`)
	if err != nil {
		return nil, fmt.Errorf("read provider status: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ProviderStatus])
	if err != nil {
		return nil, fmt.Errorf("read provider status: %w", err)
	}
	out := make(map[string]ProviderStatus, len(list))
	for _, p := range list {
		out[p.Name] = p
	}
	return out, nil
}
