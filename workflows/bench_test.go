package workflows_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/internal/stacktest"
)

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

// BenchmarkWebhookLatency posts customer messages to the real webhook (real PostgreSQL,
// real Temporal dev server, a worker answering through the fakes) at a fixed rate and
// reports the webhook's response time as the provider sees it.
//
//	./bin/noor testenv -- go test -run '^$' -bench BenchmarkWebhookLatency -benchtime 1x ./workflows/
func BenchmarkWebhookLatency(b *testing.B) {
	const (
		rate     = 50 // requests per second
		duration = 20 * time.Second
		chats    = 200
	)
	for i := 0; i < b.N; i++ {
		s := stacktest.New(b, stacktest.Options{Debounce: time.Second})
		echoReplies(s)
		total := int(rate * duration.Seconds())
		lat := make([]float64, total)
		statuses := make([]int, total)
		tick := time.NewTicker(time.Second / rate)
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		b.ResetTimer()
		for n := 0; n < total; n++ {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				chat := fmt.Sprintf("97155%07d", n%chats)
				msg := s.Customer(chat, fmt.Sprintf("message %d", n))
				start := time.Now()
				st, err := postOne(client, s, msg)
				lat[n] = float64(time.Since(start).Microseconds()) / 1000
				if err == nil {
					statuses[n] = st
				}
			}()
		}
		wg.Wait()
		tick.Stop()
		b.StopTimer()
		for n, st := range statuses {
			require.Equal(b, 200, st, "request %d", n)
		}
		sort.Float64s(lat)
		b.ReportMetric(percentile(lat, 0.50), "p50-ms")
		b.ReportMetric(percentile(lat, 0.99), "p99-ms")
		b.ReportMetric(lat[len(lat)-1], "max-ms")
		b.ReportMetric(rate, "req/s")
	}
}

func postOne(_ *http.Client, s *stacktest.Stack, m wazzuptest.Inbound) (int, error) {
	// The fake's PostMessages builds the exact Wazzup envelope; its client is shared.
	return s.Wazzup.PostMessages(context.Background(), s.WebhookURL, m)
}

// BenchmarkDebounceToSend measures, for many conversations answered concurrently, the time
// from the moment a debounce window closes to the moment the reply reaches the send call,
// minus the time spent inside LLM calls: the cost of the workflow, the activities, the
// database and Temporal around the model.
//
//	./bin/noor testenv -- go test -run '^$' -bench BenchmarkDebounceToSend -benchtime 1x ./workflows/
func BenchmarkDebounceToSend(b *testing.B) {
	b.Run("one-at-a-time", func(b *testing.B) { debounceToSend(b, 20, false) })
	b.Run("100-concurrent", func(b *testing.B) { debounceToSend(b, 100, true) })
}

func debounceToSend(b *testing.B, conversations int, concurrent bool) {
	for i := 0; i < b.N; i++ {
		s := stacktest.New(b, stacktest.Options{Debounce: time.Second, Seed: true})
		echoReplies(s)
		b.ResetTimer()
		var wg sync.WaitGroup
		for n := 0; n < conversations; n++ {
			post := func() { s.Post(s.Customer(fmt.Sprintf("97156%07d", n), "Do you have ergonomic chairs?")) }
			if !concurrent {
				post()
				_, err := s.Wazzup.WaitForSent(s.Ctx(time.Minute), n+1)
				require.NoError(b, err)
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); post() }()
		}
		wg.Wait()
		_, err := s.Wazzup.WaitForSent(s.Ctx(3*time.Minute), conversations)
		require.NoError(b, err)
		b.StopTimer()
		rows, err := s.Store.Pool.Query(context.Background(), `
			SELECT extract(epoch FROM (t.send_started_at - t.debounce_closed_at)) * 1000
			       - coalesce((SELECT sum(duration_ms) FROM turn_steps st WHERE st.turn_id = t.id AND st.kind = 'llm' AND st.round >= 0), 0)
			FROM turns t WHERE t.send_started_at IS NOT NULL`)
		require.NoError(b, err)
		var ms []float64
		for rows.Next() {
			var v float64
			require.NoError(b, rows.Scan(&v))
			ms = append(ms, v)
		}
		require.NoError(b, rows.Err())
		require.Len(b, ms, conversations)
		sort.Float64s(ms)
		b.ReportMetric(percentile(ms, 0.50), "p50-ms")
		b.ReportMetric(percentile(ms, 0.95), "p95-ms")
		b.ReportMetric(ms[len(ms)-1], "max-ms")
	}
}
