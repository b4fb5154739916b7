package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The console's read side: conversations, messages, escalations, products and knowledge
// with filters. Every value from a request is a bind parameter; only fixed SQL fragments
// chosen by code are concatenated.

// Allowed filter values (the console validates against these before querying).
var (
	ConversationStatuses = []string{"active", "escalated", "closed"}
	ConversationOwners   = []string{"bot", "human"}
	Languages            = []string{"en", "ar"}
	EscalationStatuses   = []string{"pending", "in_progress", "resolved"}
)

// hasQuoteSQL decides whether a conversation "has a quote". Until the CRM/quotation slice
// lands its quotes table, a quotation is the PDF document Noor sent through the outbound
// gateway (the only documents Noor sends); swap this fragment for the quotes table then.
const hasQuoteSQL = `EXISTS (SELECT 1 FROM outbound_ledger q WHERE q.conversation_id = c.id AND q.kind = 'document'
	AND q.status IN ('sent', 'delivered', 'read'))`

const escalatedSQL = `(c.status = 'escalated' OR EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id))`

// ConversationFilter selects conversations. Zero values mean "any".
type ConversationFilter struct {
	Status, Stage, Owner, Language string
	// From/To bound the last activity (last message, or creation when there is none).
	From, To   *time.Time
	Escalated  *bool
	HasQuote   *bool
	NeedsHuman *bool
	// Search matches the customer's name, phone (chat id) or company (facts.company).
	Search string
	Limit  int // 0 = no limit (exports)
	Offset int
}

// ConversationRow is one line of the conversations list.
type ConversationRow struct {
	ID            string     `json:"id"`
	ChannelID     string     `json:"channel_id"`
	ChatID        string     `json:"chat_id"`
	CustomerName  string     `json:"customer_name"`
	Company       string     `json:"company"`
	Language      string     `json:"language"`
	Stage         string     `json:"stage"`
	Status        string     `json:"status"`
	Owner         string     `json:"owner"`
	NeedsHuman    bool       `json:"needs_human"`
	CreatedAt     time.Time  `json:"created_at"`
	LastMessageAt *time.Time `json:"last_message_at"`
	Messages      int        `json:"messages"`
	Escalations   int        `json:"escalations"`
	HasQuote      bool       `json:"has_quote"`
	CostUSD       float64    `json:"cost_usd"`
	LastText      string     `json:"last_text"`
}

// EscapeLike escapes LIKE wildcards so user input matches literally (ESCAPE '\').
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

type sqlArgs struct{ args []any }

func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

func (f ConversationFilter) where(a *sqlArgs) string {
	var w []string
	if f.Status != "" {
		w = append(w, "c.status = "+a.add(f.Status))
	}
	if f.Stage != "" {
		w = append(w, "c.stage = "+a.add(f.Stage))
	}
	if f.Owner != "" {
		w = append(w, "c.owner = "+a.add(f.Owner))
	}
	if f.Language != "" {
		w = append(w, "c.language = "+a.add(f.Language))
	}
	if f.From != nil {
		w = append(w, "coalesce(c.last_message_at, c.created_at) >= "+a.add(*f.From))
	}
	if f.To != nil {
		w = append(w, "coalesce(c.last_message_at, c.created_at) < "+a.add(*f.To))
	}
	if f.Escalated != nil {
		if *f.Escalated {
			w = append(w, escalatedSQL)
		} else {
			w = append(w, "NOT "+escalatedSQL)
		}
	}
	if f.NeedsHuman != nil {
		w = append(w, "c.needs_human = "+a.add(*f.NeedsHuman))
	}
	if f.HasQuote != nil {
		if *f.HasQuote {
			w = append(w, hasQuoteSQL)
		} else {
			w = append(w, "NOT "+hasQuoteSQL)
		}
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		like := a.add("%" + EscapeLike(q) + "%")
		cond := []string{
			"c.customer_name ILIKE " + like + ` ESCAPE '\'`,
			"coalesce(c.facts->>'company', '') ILIKE " + like + ` ESCAPE '\'`,
			"c.chat_id ILIKE " + like + ` ESCAPE '\'`,
		}
		// Phones are stored as digits: "+971 50-123" should find 97150123….
		if digits := onlyDigits(q); len(digits) >= 3 && digits != q {
			cond = append(cond, "c.chat_id LIKE "+a.add("%"+digits+"%"))
		}
		w = append(w, "("+strings.Join(cond, " OR ")+")")
	}
	if len(w) == 0 {
		return "TRUE"
	}
	return strings.Join(w, " AND ")
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

const conversationRowSelect = `
	SELECT c.id::text, c.channel_id, c.chat_id, c.customer_name, coalesce(c.facts->>'company', ''),
	       c.language, c.stage, c.status, c.owner, c.needs_human, c.created_at, c.last_message_at,
	       (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id),
	       (SELECT count(*) FROM escalations e WHERE e.conversation_id = c.id),
	       ` + hasQuoteSQL + `,
	       (SELECT coalesce(sum(m.cost_usd), 0)::float8 FROM messages m WHERE m.conversation_id = c.id),
	       coalesce((SELECT left(m.text, 160) FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1), '')
	FROM conversations c`

func scanConversationRow(r pgx.Row) (ConversationRow, error) {
	var c ConversationRow
	err := r.Scan(&c.ID, &c.ChannelID, &c.ChatID, &c.CustomerName, &c.Company, &c.Language, &c.Stage, &c.Status,
		&c.Owner, &c.NeedsHuman, &c.CreatedAt, &c.LastMessageAt, &c.Messages, &c.Escalations, &c.HasQuote,
		&c.CostUSD, &c.LastText)
	return c, err
}

// ListConversations returns one page of conversations, most recently active first, and
// the number of matches.
func (s *Store) ListConversations(ctx context.Context, f ConversationFilter) ([]ConversationRow, int, error) {
	var a sqlArgs
	where := f.where(&a)
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM conversations c WHERE `+where, a.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count conversations: %w", err)
	}
	var out []ConversationRow
	err := s.StreamConversations(ctx, f, func(r ConversationRow) error {
		out = append(out, r)
		return nil
	})
	return out, total, err
}

// StreamConversations calls fn for each matching conversation without holding them all in
// memory (CSV export).
func (s *Store) StreamConversations(ctx context.Context, f ConversationFilter, fn func(ConversationRow) error) error {
	var a sqlArgs
	q := conversationRowSelect + " WHERE " + f.where(&a) +
		" ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id" + limitOffset(&a, f.Limit, f.Offset)
	rows, err := s.Pool.Query(ctx, q, a.args...)
	if err != nil {
		return fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanConversationRow(rows)
		if err != nil {
			return fmt.Errorf("read conversation row: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

func limitOffset(a *sqlArgs, limit, offset int) string {
	s := ""
	if limit > 0 {
		s += " LIMIT " + a.add(limit)
	}
	if offset > 0 {
		s += " OFFSET " + a.add(offset)
	}
	return s
}

// ConversationDetail is the header of the conversation page.
type ConversationDetail struct {
	ConversationRow
	ChatType              string          `json:"chat_type"`
	NeedsHumanReason      string          `json:"needs_human_reason"`
	Facts                 json.RawMessage `json:"facts"`
	Summary               string          `json:"summary"`
	OptedOut              bool            `json:"opted_out"`
	WorkflowID            string          `json:"workflow_id"`
	LastCustomerMessageAt *time.Time      `json:"last_customer_message_at"`
	UpdatedAt             time.Time       `json:"updated_at"`
}

// ConversationDetail reads one conversation for the console; ErrNotFound when the id is
// unknown or not a uuid.
func (s *Store) ConversationDetail(ctx context.Context, id string) (ConversationDetail, error) {
	var d ConversationDetail
	if !isUUID(id) {
		return d, ErrNotFound
	}
	row, err := scanConversationRow(s.Pool.QueryRow(ctx, conversationRowSelect+` WHERE c.id = $1::uuid`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read conversation: %w", err)
	}
	d.ConversationRow = row
	err = s.Pool.QueryRow(ctx, `SELECT chat_type, needs_human_reason, facts, summary, opted_out, workflow_id,
		last_customer_message_at, updated_at FROM conversations WHERE id = $1::uuid`, id).
		Scan(&d.ChatType, &d.NeedsHumanReason, &d.Facts, &d.Summary, &d.OptedOut, &d.WorkflowID,
			&d.LastCustomerMessageAt, &d.UpdatedAt)
	if err != nil {
		return d, fmt.Errorf("read conversation: %w", err)
	}
	return d, nil
}

// ThreadMessage is one message of a conversation as the console shows it.
type ThreadMessage struct {
	ID               int64           `json:"id"`
	ConversationID   string          `json:"conversation_id"`
	Direction        string          `json:"direction"`
	Author           string          `json:"author"`
	AuthorName       string          `json:"author_name"`
	Kind             string          `json:"kind"`
	Text             string          `json:"text"`
	MediaURL         string          `json:"media_url"`
	Language         string          `json:"language"`
	Model            string          `json:"model"`
	PromptTokens     int             `json:"prompt_tokens"`
	CompletionTokens int             `json:"completion_tokens"`
	CostUSD          float64         `json:"cost_usd"`
	Metadata         json.RawMessage `json:"metadata"`
	CreatedAt        time.Time       `json:"created_at"`
	// DeliveryStatus is the outbound ledger's state for messages we sent ("" for inbound).
	DeliveryStatus string `json:"delivery_status"`
	DeliveryError  string `json:"delivery_error"`
	// TurnID is the bot turn the message belongs to (the customer messages it answered and
	// its reply), 0 when none.
	TurnID int64 `json:"turn_id,omitempty"`
}

const threadSelect = `
	SELECT m.id, m.conversation_id::text, m.direction, m.author, m.author_name, m.kind, m.text, m.media_url,
	       m.language, m.model, m.prompt_tokens, m.completion_tokens, m.cost_usd::float8, m.metadata, m.created_at,
	       coalesce(o.status, ''), coalesce(o.error, ''), coalesce(m.turn_id, 0)
	FROM messages m
	LEFT JOIN LATERAL (SELECT status, error FROM outbound_ledger o WHERE o.message_id = m.id ORDER BY o.created_at DESC LIMIT 1) o ON true`

func scanThreadMessage(r pgx.Row) (ThreadMessage, error) {
	var m ThreadMessage
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Author, &m.AuthorName, &m.Kind, &m.Text, &m.MediaURL,
		&m.Language, &m.Model, &m.PromptTokens, &m.CompletionTokens, &m.CostUSD, &m.Metadata, &m.CreatedAt,
		&m.DeliveryStatus, &m.DeliveryError, &m.TurnID)
	return m, err
}

// Thread returns a conversation's messages in order (at most limit, the latest ones).
func (s *Store) Thread(ctx context.Context, conversationID string, limit int) ([]ThreadMessage, error) {
	if !isUUID(conversationID) {
		return nil, ErrNotFound
	}
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	rows, err := s.Pool.Query(ctx, `SELECT * FROM (`+threadSelect+`
		WHERE m.conversation_id = $1::uuid ORDER BY m.id DESC LIMIT $2) t ORDER BY id`, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("read thread: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadMessage, error) { return scanThreadMessage(r) })
}

// StreamMessages calls fn for every message of the conversations matching f, conversation
// by conversation (CSV export).
func (s *Store) StreamMessages(ctx context.Context, f ConversationFilter, fn func(ThreadMessage) error) error {
	var a sqlArgs
	f.Limit, f.Offset = 0, 0
	q := threadSelect + ` JOIN conversations c ON c.id = m.conversation_id WHERE ` + f.where(&a) +
		` ORDER BY m.conversation_id, m.id`
	rows, err := s.Pool.Query(ctx, q, a.args...)
	if err != nil {
		return fmt.Errorf("export messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanThreadMessage(rows)
		if err != nil {
			return fmt.Errorf("read message row: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EscalationRow is one escalation with its conversation's headline.
type EscalationRow struct {
	ID             int64      `json:"id"`
	ConversationID string     `json:"conversation_id"`
	CustomerName   string     `json:"customer_name"`
	ChatID         string     `json:"chat_id"`
	Language       string     `json:"language"`
	Episode        int        `json:"episode"`
	Reason         string     `json:"reason"`
	Kind           string     `json:"kind"`
	TriggeredBy    string     `json:"triggered_by"`
	Status         string     `json:"status"`
	TakenBy        string     `json:"taken_by"`
	ResolvedBy     string     `json:"resolved_by"`
	ResolutionNote string     `json:"resolution_note"`
	CreatedAt      time.Time  `json:"created_at"`
	TakenAt        *time.Time `json:"taken_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
}

// EscalationRowFilter selects escalations for the console and exports.
type EscalationRowFilter struct {
	Status         string
	ConversationID string
	From, To       *time.Time // created_at
	Limit, Offset  int
}

func (f EscalationRowFilter) where(a *sqlArgs) string {
	w := []string{"TRUE"}
	if f.Status != "" {
		w = append(w, "e.status = "+a.add(f.Status))
	}
	if f.ConversationID != "" {
		w = append(w, "e.conversation_id::text = "+a.add(f.ConversationID))
	}
	if f.From != nil {
		w = append(w, "e.created_at >= "+a.add(*f.From))
	}
	if f.To != nil {
		w = append(w, "e.created_at < "+a.add(*f.To))
	}
	return strings.Join(w, " AND ")
}

// StreamEscalations calls fn for each matching escalation, oldest pending first within
// a status (the queue order).
func (s *Store) StreamEscalations(ctx context.Context, f EscalationRowFilter, fn func(EscalationRow) error) error {
	var a sqlArgs
	q := `SELECT e.id, e.conversation_id::text, c.customer_name, c.chat_id, c.language, e.episode, e.reason, e.kind,
	             e.triggered_by, e.status, e.taken_by, e.resolved_by, e.resolution_note, e.created_at, e.taken_at, e.resolved_at
	      FROM escalations e JOIN conversations c ON c.id = e.conversation_id
	      WHERE ` + f.where(&a) + `
	      ORDER BY CASE e.status WHEN 'pending' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END,
	               CASE WHEN e.status = 'resolved' THEN NULL ELSE e.created_at END ASC NULLS LAST,
	               e.resolved_at DESC NULLS LAST, e.id` + limitOffset(&a, f.Limit, f.Offset)
	rows, err := s.Pool.Query(ctx, q, a.args...)
	if err != nil {
		return fmt.Errorf("list escalations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EscalationRow
		if err := rows.Scan(&e.ID, &e.ConversationID, &e.CustomerName, &e.ChatID, &e.Language, &e.Episode, &e.Reason,
			&e.Kind, &e.TriggeredBy, &e.Status, &e.TakenBy, &e.ResolvedBy, &e.ResolutionNote, &e.CreatedAt,
			&e.TakenAt, &e.ResolvedAt); err != nil {
			return fmt.Errorf("read escalation row: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListEscalations collects StreamEscalations.
func (s *Store) ListEscalationRows(ctx context.Context, f EscalationRowFilter) ([]EscalationRow, error) {
	var out []EscalationRow
	err := s.StreamEscalations(ctx, f, func(e EscalationRow) error { out = append(out, e); return nil })
	return out, err
}

// EscalationCounts returns the number of escalations per status.
func (s *Store) EscalationCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT status, count(*)::int FROM escalations GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count escalations: %w", err)
	}
	out := map[string]int{}
	for _, st := range EscalationStatuses {
		out[st] = 0
	}
	type kv struct {
		K string
		V int
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[kv])
	if err != nil {
		return nil, fmt.Errorf("count escalations: %w", err)
	}
	for _, p := range list {
		out[p.K] = p.V
	}
	return out, nil
}

// QualityReviewRow is one review for the export.
type QualityReviewRow struct {
	ID             int64           `json:"id"`
	ConversationID string          `json:"conversation_id"`
	Kind           string          `json:"kind"`
	TotalScore     *float64        `json:"total_score"`
	MaxScore       *float64        `json:"max_score"`
	Band           string          `json:"band"`
	Scores         json.RawMessage `json:"scores"`
	Strengths      json.RawMessage `json:"strengths"`
	Weaknesses     json.RawMessage `json:"weaknesses"`
	Recommendation json.RawMessage `json:"recommendations"`
	Model          string          `json:"model"`
	CostUSD        float64         `json:"cost_usd"`
	CreatedAt      time.Time       `json:"created_at"`
}

// StreamQualityReviews calls fn for each review of the conversations matching f.
func (s *Store) StreamQualityReviews(ctx context.Context, f ConversationFilter, fn func(QualityReviewRow) error) error {
	var a sqlArgs
	f.Limit, f.Offset = 0, 0
	q := `SELECT r.id, r.conversation_id::text, r.kind, r.total_score::float8, r.max_score::float8, r.band, r.scores,
	             r.strengths, r.weaknesses, r.recommendations, r.model, r.cost_usd::float8, r.created_at
	      FROM quality_reviews r JOIN conversations c ON c.id = r.conversation_id
	      WHERE ` + f.where(&a) + ` ORDER BY r.id`
	rows, err := s.Pool.Query(ctx, q, a.args...)
	if err != nil {
		return fmt.Errorf("export quality reviews: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r QualityReviewRow
		if err := rows.Scan(&r.ID, &r.ConversationID, &r.Kind, &r.TotalScore, &r.MaxScore, &r.Band, &r.Scores,
			&r.Strengths, &r.Weaknesses, &r.Recommendation, &r.Model, &r.CostUSD, &r.CreatedAt); err != nil {
			return fmt.Errorf("read quality review: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ProductRow is one catalog product as the console lists it.
type ProductRow struct {
	ID            int64      `json:"id"`
	SKU           string     `json:"sku"`
	Name          string     `json:"name"`
	Category      string     `json:"category"`
	CategorySlug  string     `json:"category_slug"`
	Price         *float64   `json:"price"`
	SalePrice     *float64   `json:"sale_price"`
	Currency      string     `json:"currency"`
	InStock       bool       `json:"in_stock"`
	StockQuantity *int       `json:"stock_quantity"`
	ZohoItemID    string     `json:"zoho_item_id"`
	ZohoStock     *int       `json:"zoho_stock"`
	ZohoRate      *float64   `json:"zoho_rate"`
	ZohoCheckedAt *time.Time `json:"zoho_checked_at"`
	Active        bool       `json:"active"`
	Embedded      bool       `json:"embedded"`
	ImageURL      string     `json:"image_url"`
	URL           string     `json:"url"`
	SyncedAt      *time.Time `json:"synced_at"`
}

// ListProducts returns one page of products and the number of matches.
func (s *Store) ListProducts(ctx context.Context, f ProductFilter) ([]ProductRow, int, error) {
	var a sqlArgs
	where := f.where(&a)
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM products p WHERE `+where, a.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := `SELECT p.id, p.sku, p.name, p.category, p.category_slug, p.price::float8, p.sale_price::float8, p.currency,
	             p.in_stock, p.stock_quantity, coalesce(p.zoho_item_id, ''), p.zoho_stock, p.zoho_rate::float8,
	             p.zoho_checked_at, p.active, p.embedding IS NOT NULL, p.image_url, p.url, p.synced_at
	      FROM products p WHERE ` + where + ` ORDER BY p.active DESC, p.category, p.name` + limitOffset(&a, limit, f.Offset)
	rows, err := s.Pool.Query(ctx, q, a.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProductRow, error) {
		var p ProductRow
		err := r.Scan(&p.ID, &p.SKU, &p.Name, &p.Category, &p.CategorySlug, &p.Price, &p.SalePrice, &p.Currency,
			&p.InStock, &p.StockQuantity, &p.ZohoItemID, &p.ZohoStock, &p.ZohoRate, &p.ZohoCheckedAt, &p.Active,
			&p.Embedded, &p.ImageURL, &p.URL, &p.SyncedAt)
		return p, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	return list, total, nil
}

// Category is a category slug with its product count.
type Category struct {
	Slug, Name string
	Products   int
}

// ProductCategories lists the categories present in the catalog.
func (s *Store) ProductCategories(ctx context.Context) ([]Category, error) {
	rows, err := s.Pool.Query(ctx, `SELECT category_slug, min(category), count(*)::int FROM products
		WHERE category_slug <> '' GROUP BY category_slug ORDER BY min(category)`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Category])
}

// KnowledgeDoc is one source document of the knowledge base with its chunks counted.
type KnowledgeDoc struct {
	Source    string    `json:"source"`
	Title     string    `json:"title"`
	Language  string    `json:"language"`
	Chunks    int       `json:"chunks"`
	Embedded  int       `json:"embedded"`
	Chars     int       `json:"chars"`
	UpdatedAt time.Time `json:"updated_at"`
}

// KnowledgeDocs lists the knowledge base documents.
func (s *Store) KnowledgeDocs(ctx context.Context) ([]KnowledgeDoc, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT source, coalesce(max(title), ''), coalesce(max(language), ''), count(*)::int,
		       count(embedding)::int, coalesce(sum(length(content)), 0)::int, max(updated_at)
		FROM knowledge_base GROUP BY source ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("list knowledge documents: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[KnowledgeDoc])
}

// KnowledgeChunk is one chunk.
type KnowledgeChunk struct {
	ID         int64  `json:"id"`
	ChunkIndex int    `json:"chunk_index"`
	Heading    string `json:"heading"`
	Content    string `json:"content"`
	Language   string `json:"language"`
	Embedded   bool   `json:"embedded"`
}

// KnowledgeChunks lists one document's chunks in order.
func (s *Store) KnowledgeChunks(ctx context.Context, source string) ([]KnowledgeChunk, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, chunk_index, heading, content, language, embedding IS NOT NULL
		FROM knowledge_base WHERE source = $1 ORDER BY chunk_index`, source)
	if err != nil {
		return nil, fmt.Errorf("list knowledge chunks: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[KnowledgeChunk])
}
