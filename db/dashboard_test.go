package db_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/testenv"
)

type rawMsg struct {
	conv   string
	id     int64
	author string
	at     time.Time
	cost   float64
}

// TestDashboardEqualsNumbersComputedFromRows seeds a month of conversations and checks
// every dashboard number against a plain Go computation over the rows read back.
func TestDashboardEqualsNumbersComputedFromRows(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(7))
	now := time.Now().Truncate(time.Second)
	dubai, err := time.LoadLocation("Asia/Dubai")
	require.NoError(t, err)

	// 60 conversations over 45 days, each with a few turns; some escalate, some get a quote.
	kinds := []string{"complaint", "human_request", "large_order"}
	for i := 0; i < 60; i++ {
		created := now.Add(-time.Duration(rng.Int63n(int64(45 * 24 * time.Hour))))
		lang := "en"
		if i%3 == 0 {
			lang = "ar"
		}
		var conv string
		require.NoError(t, s.Pool.QueryRow(ctx, `INSERT INTO conversations (channel_id, chat_id, language, created_at)
			VALUES ('c', $1, $2, $3) RETURNING id::text`, fmt.Sprintf("9715%08d", i), lang, created).Scan(&conv))
		at := created
		turns := 1 + rng.Intn(4)
		for k := 0; k < turns && at.Before(now.Add(-time.Minute)); k++ {
			for b := 0; b < 1+rng.Intn(2); b++ { // bursts of 1–2 customer messages
				_, err := s.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, text, created_at)
					VALUES ($1::uuid, 'in', 'customer', 'hi', $2)`, conv, at)
				require.NoError(t, err)
				at = at.Add(time.Duration(1+rng.Intn(3)) * time.Second)
			}
			at = at.Add(time.Duration(2000+rng.Intn(20000)) * time.Millisecond)
			if at.After(now) {
				break
			}
			_, err := s.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, text, cost_usd, created_at)
				VALUES ($1::uuid, 'out', 'noor', 'hello', $2, $3)`, conv, float64(rng.Intn(500))/1e6, at)
			require.NoError(t, err)
			if rng.Intn(4) == 0 { // a photo right after the reply: not a second reply time
				_, err := s.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, kind, created_at)
					VALUES ($1::uuid, 'out', 'noor', 'image', $2)`, conv, at.Add(time.Second))
				require.NoError(t, err)
			}
			at = at.Add(time.Duration(rng.Intn(6*3600)) * time.Second)
		}
		if i%7 == 0 { // the customer comes back days later
			back := now.Add(-time.Duration(rng.Int63n(int64(5 * 24 * time.Hour))))
			if back.After(at) {
				_, err := s.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, text, created_at)
					VALUES ($1::uuid, 'in', 'customer', 'back again', $2)`, conv, back)
				require.NoError(t, err)
			}
		}
		_, err := s.Pool.Exec(ctx, `UPDATE conversations SET last_message_at = (SELECT max(created_at) FROM messages WHERE conversation_id = $1::uuid)
			WHERE id = $1::uuid`, conv)
		require.NoError(t, err)
		if i%4 == 0 {
			_, err := s.Pool.Exec(ctx, `INSERT INTO escalations (conversation_id, episode, reason, kind, created_at)
				VALUES ($1::uuid, 1, 'r', $2, $3)`, conv, kinds[i%3], created.Add(time.Minute))
			require.NoError(t, err)
		}
		if i%5 == 0 {
			_, err := s.Pool.Exec(ctx, `INSERT INTO outbound_ledger (idempotency_key, conversation_id, kind, provider, status, created_at)
				VALUES ($1, $2::uuid, 'document', 'wazzup', $3, $4)`, "q"+conv, conv, []string{"sent", "error"}[i%2], created.Add(time.Minute))
			require.NoError(t, err)
		}
		if i%6 == 0 {
			_, err := s.Pool.Exec(ctx, `INSERT INTO quality_reviews (conversation_id, total_score, max_score, cost_usd, created_at)
				VALUES ($1::uuid, $2, 30, 0.009, $3)`, conv, 10+i%20, created.Add(2*time.Minute))
			require.NoError(t, err)
		}
	}
	var contact string
	require.NoError(t, s.Pool.QueryRow(ctx, `INSERT INTO local_crm_contacts (phone, last_name) VALUES ('1', 'X') RETURNING id`).Scan(&contact))
	for i := 0; i < 7; i++ {
		_, err := s.Pool.Exec(ctx, `INSERT INTO local_crm_deals (contact_id, name, stage, created_at) VALUES ($1, 'd', 'New', $2)`,
			contact, now.Add(-time.Duration(i*5)*24*time.Hour-time.Hour))
		require.NoError(t, err)
	}

	// Read everything back as plain rows.
	type conv struct {
		created, last time.Time
		lang          string
	}
	convs := map[string]conv{}
	rows, err := s.Pool.Query(ctx, `SELECT id::text, created_at, coalesce(last_message_at, created_at), language FROM conversations`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		var c conv
		require.NoError(t, rows.Scan(&id, &c.created, &c.last, &c.lang))
		convs[id] = c
	}
	var msgs []rawMsg
	rows, err = s.Pool.Query(ctx, `SELECT conversation_id::text, id, author, created_at, cost_usd::float8 FROM messages ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var m rawMsg
		require.NoError(t, rows.Scan(&m.conv, &m.id, &m.author, &m.at, &m.cost))
		msgs = append(msgs, m)
	}
	type stamped struct {
		at    time.Time
		label string
		v     float64
	}
	readStamped := func(q string) []stamped {
		rows, err := s.Pool.Query(ctx, q)
		require.NoError(t, err)
		var out []stamped
		for rows.Next() {
			var x stamped
			require.NoError(t, rows.Scan(&x.at, &x.label, &x.v))
			out = append(out, x)
		}
		return out
	}
	escs := readStamped(`SELECT created_at, kind, 0::float8 FROM escalations`)
	docs := readStamped(`SELECT created_at, status, 0::float8 FROM outbound_ledger WHERE kind = 'document'`)
	reviews := readStamped(`SELECT created_at, '', cost_usd::float8 FROM quality_reviews`)
	scores := readStamped(`SELECT created_at, '', total_score::float8 FROM quality_reviews`)
	deals := readStamped(`SELECT created_at, '', 0::float8 FROM local_crm_deals`)

	for _, name := range db.Periods {
		t.Run(name, func(t *testing.T) {
			p, err := db.PeriodFor(name, now, dubai)
			require.NoError(t, err)
			in := func(at time.Time) bool { return !at.Before(p.From) && at.Before(p.To) }
			got, err := s.Dashboard(ctx, p)
			require.NoError(t, err)

			active := map[string]bool{}
			msgCount, custCount, cost := 0, 0, 0.0
			for _, m := range msgs {
				if in(m.at) {
					active[m.conv] = true
					msgCount++
					cost += m.cost
					if m.author == "customer" {
						custCount++
					}
				}
			}
			newCust, returning, newConvs, durSum := 0, 0, 0, 0.0
			byLang := map[string]int{}
			for id := range active {
				if convs[id].created.Before(p.From) {
					returning++
				} else {
					newCust++
				}
				byLang[convs[id].lang]++
			}
			for _, c := range convs {
				if in(c.created) {
					newConvs++
					durSum += c.last.Sub(c.created).Seconds()
				}
			}
			escN, byKind := 0, map[string]int{}
			for _, e := range escs {
				if in(e.at) {
					escN++
					byKind[e.label]++
				}
			}
			quotes := 0
			for _, d := range docs {
				if in(d.at) && d.label == "sent" {
					quotes++
				}
			}
			dealN := 0
			for _, d := range deals {
				if in(d.at) {
					dealN++
				}
			}
			qCost, qN, scoreSum := 0.0, 0, 0.0
			for i, r := range reviews {
				if in(r.at) {
					qCost += r.v
					qN++
					scoreSum += scores[i].v
				}
			}
			// Reply time: Noor messages whose previous message in the chat is the customer's.
			var replies []float64
			last := map[string]rawMsg{}
			for _, m := range msgs {
				if prev, ok := last[m.conv]; ok && m.author == "noor" && prev.author == "customer" && in(m.at) {
					replies = append(replies, m.at.Sub(prev.at).Seconds())
				}
				last[m.conv] = m
			}

			assert.Equal(t, len(active), got.Conversations, "conversations")
			assert.Equal(t, newCust, got.NewCustomers, "new customers")
			assert.Equal(t, returning, got.ReturningCustomers, "returning customers")
			assert.Equal(t, newConvs, got.NewConversations, "new conversations")
			assert.Equal(t, msgCount, got.Messages)
			assert.Equal(t, custCount, got.CustomerMessages)
			assert.Equal(t, escN, got.Escalations)
			gotKinds := map[string]int{}
			for _, c := range got.EscalationsByReason {
				gotKinds[c.Label] = c.Count
			}
			assert.Equal(t, byKind, gotKinds, "escalations by reason")
			gotLang := map[string]int{}
			for _, c := range got.ByLanguage {
				gotLang[c.Label] = c.Count
			}
			assert.Equal(t, byLang, gotLang, "by language")
			assert.Equal(t, quotes, got.QuotesSent, "quotes sent")
			assert.Equal(t, dealN, got.Deals, "deals")
			if newConvs > 0 {
				assert.InDelta(t, float64(dealN)/float64(newConvs), got.Conversion, 1e-9)
			}
			assert.InDelta(t, cost, got.ReplyCostUSD, 1e-9)
			assert.InDelta(t, qCost, got.QualityCostUSD, 1e-9)
			assert.InDelta(t, cost+qCost, got.LLMCostUSD, 1e-9)
			assert.Equal(t, qN, got.QualityReviews)
			if qN > 0 {
				require.NotNil(t, got.QualityAvgScore)
				assert.InDelta(t, scoreSum/float64(qN), *got.QualityAvgScore, 1e-9)
			}
			if newConvs > 0 {
				assert.InDelta(t, durSum/float64(newConvs), got.AvgDurationSecond, 1e-6)
			}
			require.Equal(t, len(replies), got.ReplyTime.Count, "reply count")
			if len(replies) > 0 {
				assert.InDelta(t, percentile(replies, 0.5), got.ReplyTime.P50, 1e-6)
				assert.InDelta(t, percentile(replies, 0.9), got.ReplyTime.P90, 1e-6)
				assert.InDelta(t, percentile(replies, 0.95), got.ReplyTime.P95, 1e-6)
			}
			// The chart's buckets add up and cover the period.
			sumEsc := 0
			for _, pt := range got.Series {
				sumEsc += pt.Escalations
			}
			assert.Equal(t, escN, sumEsc, "series escalations add up")
			switch name {
			case "today":
				assert.Equal(t, now.In(dubai).Hour()+1, len(got.Series))
			case "week":
				assert.Len(t, got.Series, 7)
			case "month":
				assert.Len(t, got.Series, 30)
			}
		})
	}
	// The seed must exercise every number, or the comparison proves little.
	p, _ := db.PeriodFor("month", now, dubai)
	d, err := s.Dashboard(ctx, p)
	require.NoError(t, err)
	assert.Positive(t, d.ReturningCustomers)
	assert.Positive(t, d.QuotesSent)
	assert.Positive(t, d.Deals)
	assert.Positive(t, d.ReplyTime.Count)
	assert.Positive(t, d.QualityReviews)
	assert.Len(t, d.EscalationsByReason, 3)
}

// percentile is PostgreSQL's percentile_cont: linear interpolation between closest ranks.
func percentile(v []float64, p float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := p * float64(len(s)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	return s[int(lo)] + (s[int(hi)]-s[int(lo)])*(pos-lo)
}

func TestPeriodFor(t *testing.T) {
	dubai, _ := time.LoadLocation("Asia/Dubai")
	now := time.Date(2025, 3, 10, 1, 30, 0, 0, time.UTC) // 05:30 in Dubai
	p, err := db.PeriodFor("today", now, dubai)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 3, 10, 0, 0, 0, 0, dubai), p.From)
	assert.Equal(t, now, p.To)
	p, _ = db.PeriodFor("week", now, dubai)
	assert.Equal(t, time.Date(2025, 3, 4, 0, 0, 0, 0, dubai), p.From)
	p, _ = db.PeriodFor("month", now, dubai)
	assert.Equal(t, time.Date(2025, 2, 9, 0, 0, 0, 0, dubai), p.From)
	_, err = db.PeriodFor("year'; --", now, dubai)
	assert.Error(t, err)
}
