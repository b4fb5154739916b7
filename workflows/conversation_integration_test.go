package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/internal/stacktest"
)

// fastModelJSON answers extraction/summary calls so they never disturb reply scripts.
func fastModelJSON(r llmtest.ChatRequest) (llmtest.Reply, bool) {
	if r.Model == stacktest.FastModel {
		return llmtest.Reply{Content: "{}"}, true
	}
	return llmtest.Reply{}, false
}

// echoReplies makes the reply model answer "Reply to: <last user text>".
func echoReplies(s *stacktest.Stack) {
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		return llmtest.Reply{Content: "Reply to: " + r.LastUserText()}
	})
}

func TestBurstIsOneTurnAndOneReply(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 2500 * time.Millisecond})
	echoReplies(s)
	chat := "971543210987"
	texts := []string{"Hello", "We're moving into a new office in JLT next month", "Need 6 desks and 6 chairs. What do you have?"}
	// Three envelopes within two seconds, like a customer typing in bursts.
	tick := time.NewTicker(900 * time.Millisecond)
	defer tick.Stop()
	for i, text := range texts {
		if i > 0 {
			<-tick.C
		}
		s.Post(s.Customer(chat, text))
	}
	conv := s.Conversation(chat)
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	st := s.WaitIdle(conv.ID, 1, 30*time.Second)

	assert.Equal(t, 1, st.TurnSeq, "one turn for the burst")
	reqs := s.ReplyRequests()
	require.Len(t, reqs, 1, "exactly one LLM turn")
	all := reqs[0].Text("user")
	for _, text := range texts {
		assert.Contains(t, all, text, "the turn's input contains every message of the burst")
	}
	require.Len(t, s.Wazzup.Sent(), 1, "exactly one reply")
	assert.Equal(t, chat, sent[0].ChatID)
	assert.Contains(t, sent[0].Text, texts[2])
	assert.Equal(t, fmt.Sprintf("reply:%s:1", conv.ID), sent[0].CRMMessageID, "deterministic idempotency key")
	s.RecordHistory(conv.WorkflowID, "conversation-burst")
}

func TestDuplicateDeliveryIsProcessedOnce(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: time.Second})
	echoReplies(s)
	chat := "971526667788"
	msg := s.Customer(chat, "Hi, I need chairs for 12 people under AED 700 each")
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.Post(msg) }()
	}
	wg.Wait()
	conv := s.Conversation(chat)
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	st := s.WaitIdle(conv.ID, 1, 30*time.Second)
	assert.Equal(t, 1, st.TurnSeq)
	assert.Len(t, s.ReplyRequests(), 1)
	assert.Len(t, s.Wazzup.Sent(), 1)
	msgs, err := s.Store.Messages(context.Background(), conv.ID, 0, 0)
	require.NoError(t, err)
	customer := 0
	for _, m := range msgs {
		if m.Author == "customer" {
			customer++
		}
	}
	assert.Equal(t, 1, customer, "the message is stored once")

	// A redelivery much later is still dropped.
	s.Post(msg)
	st = s.WaitIdle(conv.ID, 1, 10*time.Second)
	assert.Equal(t, 1, st.TurnSeq)
}

func TestFiftyConversationsInParallelGetTheirOwnReplies(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: time.Second})
	echoReplies(s)
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := fmt.Sprintf("9715500%05d", i)
			s.Post(s.Customer(chat, fmt.Sprintf("question number %d from %s", i, chat)))
		}()
	}
	wg.Wait()
	_, err := s.Wazzup.WaitForSent(s.Ctx(120*time.Second), n)
	require.NoError(t, err)
	sent := s.Wazzup.Sent()
	require.Len(t, sent, n)
	byChat := map[string]int{}
	for _, m := range sent {
		byChat[m.ChatID]++
		assert.Contains(t, m.Text, "from "+m.ChatID, "a reply went to the chat whose message it answers")
	}
	assert.Len(t, byChat, n, "every chat got exactly its own reply")
	for chat, c := range byChat {
		assert.Equal(t, 1, c, chat)
	}
}

func TestManagerEchoSilencesTheBotUntilHandBack(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: time.Second})
	echoReplies(s)
	chat := "971501112233"
	s.Post(s.Customer(chat, "Do you have standing desks?"))
	conv := s.Conversation(chat)
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	s.WaitIdle(conv.ID, 1, 20*time.Second)

	s.Post(s.Manager(chat, "Hi, this is Israullah from Treejar, I'll take it from here.", "Israullah"))
	require.Eventually(t, func() bool { return s.State(conv.ID).Owner == "human" }, 10*time.Second, 20*time.Millisecond)
	c, err := s.Store.Conversation(context.Background(), conv.ID)
	require.NoError(t, err)
	assert.Equal(t, "human", c.Owner)

	// The customer writes again: stored, shown to the human, no bot turn, no reply.
	s.Post(s.Customer(chat, "Great, can you also send the price list?"))
	s.Post(s.Customer(chat, "And the delivery time?"))
	require.Eventually(t, func() bool {
		msgs, _ := s.Store.Messages(context.Background(), conv.ID, 0, 0)
		return len(msgs) == 5
	}, 10*time.Second, 20*time.Millisecond)
	st := s.State(conv.ID)
	assert.Equal(t, 1, st.TurnSeq, "no turn while a human owns the chat")
	assert.Empty(t, st.Pending)
	assert.Len(t, s.Wazzup.Sent(), 1)

	// Hand back through the API with a note; the bot answers again with the note in context.
	resp := apiPost(t, s, "/api/v1/conversations/"+conv.ID+"/hand-back", `{"note":"Customer gets the Wholesale price list by e-mail; continue with desks.","by":"Israullah"}`)
	assert.Equal(t, 200, resp)
	s.Post(s.Customer(chat, "Thanks! Which desk do you recommend?"))
	_, err = s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	reqs := s.ReplyRequests()
	last := reqs[len(reqs)-1]
	assert.Contains(t, last.System(), "Wholesale price list by e-mail", "the manager's note is in the bot's context")
	assert.Equal(t, "bot", s.State(conv.ID).Owner)
	s.RecordHistory(conv.WorkflowID, "conversation-manager-takeover-and-hand-back")
}

func TestManagerTakeoverMidGenerationSuppressesTheReply(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	started := make(chan struct{}, 1)
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		select {
		case started <- struct{}{}:
		default:
		}
		return llmtest.Reply{Content: "Here are three desks…", Delay: 3 * time.Second}
	})
	chat := "971507778899"
	s.Post(s.Customer(chat, "I need 4 desks"))
	conv := s.Conversation(chat)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the LLM was never called")
	}
	s.Post(s.Manager(chat, "Hello, Radhika here, let me help you personally.", "Radhika"))
	st := s.WaitIdle(conv.ID, 1, 30*time.Second)
	assert.Equal(t, "human", st.Owner)
	// Wait until the turn is closed in the database, then check nothing was sent.
	require.Eventually(t, func() bool {
		var status string
		_ = s.Store.Pool.QueryRow(context.Background(), `SELECT status FROM turns WHERE conversation_id = $1`, conv.ID).Scan(&status)
		return status == "skipped"
	}, 20*time.Second, 50*time.Millisecond)
	assert.Empty(t, s.Wazzup.Sent(), "the bot's reply generated while the manager took over is not sent")
}

func TestReplyLanguageFollowsTheCustomer(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true})
	// A model that obeys the prompt's language instruction and quotes the search result.
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		if !llmtest.HasToolResult(r, "search_products") {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{Name: "search_products", Arguments: `{"query":"CH 145 black"}`}}}
		}
		if strings.Contains(r.System(), "reply in Arabic") || strings.Contains(r.System(), "whole reply in Arabic") {
			return llmtest.Reply{Content: "أهلاً بك! أنا نور من تري جار. لدينا كرسي CH 145 black بسعر 503 درهم بدون ضريبة. كم كرسياً تحتاج؟"}
		}
		return llmtest.Reply{Content: "Hi, I'm Noor from Treejar. The CH 145 black is AED 503 excl. VAT. How many do you need?"}
	})
	s.Post(s.Customer("971561234500", "مرحباً، أريد كرسي CH 145 black لمكتبي"))
	s.Post(s.Customer("971552000111", "Hi, how much is the CH 145 black?"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 2)
	require.NoError(t, err)
	byChat := map[string]string{}
	for _, m := range sent {
		byChat[m.ChatID] = m.Text
	}
	assert.Equal(t, "ar", activities.DetectLanguage(byChat["971561234500"]), byChat["971561234500"])
	assert.Contains(t, byChat["971561234500"], "CH 145 black", "SKUs stay in Latin script")
	assert.Equal(t, "en", activities.DetectLanguage(byChat["971552000111"]))
	ar := s.Conversation("971561234500")
	assert.Equal(t, "ar", s.WaitIdle(ar.ID, 1, 20*time.Second).Language)
	s.RecordHistory(ar.WorkflowID, "conversation-arabic-with-tool-call")
}

func TestLLMFailsThreeTimesThenAnswers(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.LLM.FailNext(3, 500)
	chat := "971509990001"
	s.Post(s.Customer(chat, "Do you deliver to Sharjah?"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	conv := s.Conversation(chat)
	st := s.WaitIdle(conv.ID, 1, 30*time.Second)
	assert.Contains(t, sent[0].Text, "Reply to: Do you deliver to Sharjah?")
	assert.False(t, st.NeedsHuman)
	assert.Len(t, s.Wazzup.Sent(), 1, "one reply, no apology")
	statuses := s.LLM.Statuses()
	require.GreaterOrEqual(t, len(statuses), 4)
	assert.Equal(t, []int{500, 500, 500, 200}, statuses[:4])
	s.RecordHistory(conv.WorkflowID, "conversation-llm-retries")
}

func TestLLMDownForGoodApologisesOnceAndFlagsAHuman(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	s.LLM.FailNext(1000, 503)
	chat := "971503334455"
	s.Post(s.Customer(chat, "Hello?"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(90*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, activities.FixedText("apology", "en"), sent[0].Text)
	conv := s.Conversation(chat)
	st := s.WaitIdle(conv.ID, 1, 30*time.Second)
	assert.True(t, st.NeedsHuman)
	c, err := s.Store.Conversation(context.Background(), conv.ID)
	require.NoError(t, err)
	assert.True(t, c.NeedsHuman, "the human flag is in the database for the console")

	// The customer writes again: no second apology, no crash loop.
	s.Post(s.Customer(chat, "Anyone there?"))
	st = s.WaitIdle(conv.ID, 2, 90*time.Second)
	assert.Equal(t, 2, st.TurnSeq)
	assert.Len(t, s.Wazzup.Sent(), 1, "the apology is sent once")
}

func TestLLMNotConfiguredApologisesInArabic(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, NoLLM: true})
	s.Post(s.Customer("971561112222", "مرحبا، هل لديكم طاولات اجتماعات؟"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, activities.FixedText("apology", "ar"), sent[0].Text)
	assert.Zero(t, s.LLM.Calls(), "no LLM call without a key")
}

func TestOtherChannelAndBadBodiesAreAcknowledgedAndIgnored(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	other := s.Customer("971500000009", "wrong line")
	other.ChannelID = "a1d2c3b4-5e6f-4a7b-9c8d-7e6f5a4b3c2d"
	s.Post(other)
	for _, body := range []string{`{"test":true}`, `{`, `{"messages":{"a":1}}`, `{}`} {
		status, err := s.Wazzup.PostRaw(context.Background(), s.WebhookURL, []byte(body))
		require.NoError(t, err)
		assert.Equal(t, 200, status, body)
	}
	// Wrong token: refused, nothing stored.
	status, err := s.Wazzup.PostMessages(context.Background(), strings.Replace(s.WebhookURL, "hook-token", "nope", 1),
		s.Customer("971500000010", "sneaky"))
	require.NoError(t, err)
	assert.Equal(t, 401, status)
	var n int
	require.NoError(t, s.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations`).Scan(&n))
	assert.Zero(t, n)
}

func TestStatusesAreMonotonic(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.Post(s.Customer("971502223344", "hi"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	id := sent[0].MessageID
	conv := s.Conversation("971502223344")
	s.WaitIdle(conv.ID, 1, 20*time.Second)
	now := time.Now()
	st, err := s.Wazzup.PostStatuses(context.Background(), s.WebhookURL,
		wazzuptest.Status{MessageID: id, Status: "read", At: now},
		wazzuptest.Status{MessageID: id, Status: "sent", At: now},
		wazzuptest.Status{MessageID: id, Status: "delivered", At: now},
		wazzuptest.Status{MessageID: id, Status: "error", At: now, Error: map[string]any{"error": "24_HOURS_EXCEEDED"}})
	require.NoError(t, err)
	assert.Equal(t, 200, st)
	rec, err := s.Store.OutboundByKey(context.Background(), sent[0].CRMMessageID)
	require.NoError(t, err)
	assert.Equal(t, "read", rec.Status, "late sent/delivered/error do not move a read message back")
}

func apiPost(t *testing.T, s *stacktest.Stack, path, body string) int {
	t.Helper()
	req, err := newRequest("POST", s.API.URL+path, body)
	require.NoError(t, err)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
