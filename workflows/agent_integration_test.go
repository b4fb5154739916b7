package workflows_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/internal/stacktest"
)

// An invented price is caught by the guard; the model gets one chance to repair it with a
// tool, and the customer only ever sees the checked reply.
func TestGuardRepairsAnInventedPrice(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		switch {
		case !strings.Contains(r.Text("system"), "rejected by a check") && !llmtest.HasToolResult(r, "search_products"):
			return llmtest.Reply{Content: "Our executive chairs start from AED 480 excl. VAT."}
		case !llmtest.HasToolResult(r, "search_products"):
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{Name: "search_products", Arguments: `{"query":"CH 145 black"}`}}}
		default:
			return llmtest.Reply{Content: "The Executive Office Chair CH 145 black is AED 503 excl. VAT."}
		}
	})
	s.Post(s.Customer("971500002001", "How much is the CH 145 black?"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, "The Executive Office Chair CH 145 black is AED 503 excl. VAT.", sent[0].Text)
	for _, r := range s.ReplyRequests() {
		if strings.Contains(r.Text("system"), "rejected by a check") {
			assert.Contains(t, r.Text("system"), "480", "the model is told which number was invented")
		}
	}
	conv := s.Conversation("971500002001")
	st := s.WaitIdle(conv.ID, 1, 20*time.Second)
	assert.False(t, st.NeedsHuman)
	assert.Len(t, s.Wazzup.Sent(), 1)
}

// A model that keeps inventing numbers is never quoted: the customer gets a safe message
// and the chat is flagged for a human.
func TestGuardFailingTwiceSendsTheSafeMessageAndFlags(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		return llmtest.Reply{Content: "We have 250 units in stock at AED 399 each."}
	})
	s.Post(s.Customer("971500002002", "Do you have task chairs?"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, activities.FixedText("guard_fallback", "en"), sent[0].Text)
	conv := s.Conversation("971500002002")
	st := s.WaitIdle(conv.ID, 1, 20*time.Second)
	assert.True(t, st.NeedsHuman)
	assert.Contains(t, st.NeedsHumanReason, "399")
	assert.Len(t, s.ReplyRequests(), 2, "the first draft and one repair, no more")
}

// Phone numbers and e-mails never reach the model; placeholders in its reply are restored.
func TestPersonalDataIsMaskedForTheModel(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		return llmtest.Reply{Content: "Thank you! We will send the catalogue to [EMAIL_1]."}
	})
	s.Post(s.Customer("971500002003", "My email is lina.haddad@cedarline.ae and my office phone is +971 4 123 4567"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	for _, r := range s.LLM.Requests() {
		raw := string(r.Raw)
		assert.NotContains(t, raw, "lina.haddad@cedarline.ae")
		assert.NotContains(t, raw, "123 4567")
	}
	assert.Equal(t, "Thank you! We will send the catalogue to lina.haddad@cedarline.ae.", sent[0].Text)
}

// Tool rounds are bounded: a model that keeps calling tools is made to answer, and product
// searches are capped per turn.
func TestToolRoundsAndSearchesAreCapped(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		if len(r.Tools) == 0 {
			return llmtest.Reply{Content: "Here is what I found for you."}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{Name: "search_products", Arguments: `{"query":"chair"}`}}}
	})
	s.Post(s.Customer("971500002004", "Show me everything"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, "Here is what I found for you.", sent[0].Text)
	reqs := s.ReplyRequests()
	assert.Len(t, reqs, 5, "4 tool rounds (the setting), then one call without tools")
	conv := s.Conversation("971500002004")
	var searches, capped int
	require.NoError(t, s.Store.Pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE output::text NOT LIKE '%search limit%'), count(*) FILTER (WHERE output::text LIKE '%search limit%')
		FROM turn_steps st JOIN turns t ON t.id = st.turn_id
		WHERE t.conversation_id = $1 AND st.kind = 'tool' AND st.name = 'search_products'`, conv.ID).Scan(&searches, &capped))
	assert.Equal(t, 2, searches, "two real searches per turn")
	assert.Equal(t, 2, capped, "further searches are refused, not run")
}

// Workflow tools change the state; the stage, the facts and the language are persisted for
// the console and the next run.
func TestWorkflowToolsUpdateStateAndDatabase(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if rep, ok := fastModelJSON(r); ok {
			return rep
		}
		if !llmtest.HasToolResult(r, "record_requirements") {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{
				{Name: "record_requirements", Arguments: `{"name":"Omar","company":"Al Noor Hospitality","headcount":24,"delivery_address":"Office 1204, Bay Square 11, Business Bay, Dubai"}`},
				{Name: "advance_stage", Arguments: `{"stage":"solution"}`},
				{Name: "advance_stage", Arguments: `{"stage":"celebration"}`},
			}}
		}
		return llmtest.Reply{Content: "Noted, Omar."}
	})
	s.Post(s.Customer("971500002005", "I'm Omar from Al Noor Hospitality, we need 24 meeting chairs"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	conv := s.Conversation("971500002005")
	st := s.WaitIdle(conv.ID, 1, 20*time.Second)
	assert.Equal(t, "solution", st.Stage, "a valid stage is applied, an unknown one refused")
	assert.Equal(t, 24, st.Facts.Headcount)
	require.Eventually(t, func() bool {
		c, err := s.Store.Conversation(context.Background(), conv.ID)
		return err == nil && c.Stage == "solution" && strings.Contains(string(c.Facts), "Bay Square")
	}, 10*time.Second, 50*time.Millisecond)
	reqs := s.ReplyRequests()
	found := false
	for _, m := range reqs[len(reqs)-1].Messages {
		if m.Role == "tool" && strings.Contains(m.Content, "unknown stage") {
			found = true
		}
	}
	assert.True(t, found, "the model is told the unknown stage was refused")
}

// A long dialogue gets a facts-only summary off the hot path, and the prompt carries the
// summary plus only the recent messages.
func TestLongDialoguesAreSummarised(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond,
		Patch: `{"conversation":{"context_messages":4,"summary_after_messages":6}}`})
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if r.Model == stacktest.FastModel {
			if strings.Contains(r.System(), "Summarise") {
				return llmtest.Reply{Content: "Customer: Daniel (Nordlicht Engineering), needs 4 ergonomic chairs."}
			}
			return llmtest.Reply{Content: "{}"}
		}
		return llmtest.Reply{Content: "Reply to: " + r.LastUserText()}
	})
	chat := "971509876543"
	for i := 1; i <= 5; i++ {
		s.Post(s.Customer(chat, fmt.Sprintf("message number %d", i)))
		_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), i)
		require.NoError(t, err)
	}
	conv := s.Conversation(chat)
	require.Eventually(t, func() bool {
		c, err := s.Store.Conversation(context.Background(), conv.ID)
		return err == nil && strings.Contains(c.Summary, "Nordlicht")
	}, 30*time.Second, 100*time.Millisecond, "the summary was written")
	s.Post(s.Customer(chat, "message number 6"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 6)
	require.NoError(t, err)
	reqs := s.ReplyRequests()
	last := reqs[len(reqs)-1]
	assert.Contains(t, last.System(), "Nordlicht Engineering", "the summary is in the prompt")
	assert.NotContains(t, last.Text("user"), "message number 1", "old messages are summarised, not repeated")
	assert.Contains(t, last.Text("user"), "message number 6")
}

// Wazzup answers 429 twice: the send backs off and the customer gets the reply once.
func TestSendBacksOffOnRateLimit(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.Wazzup.FailNext(wazzuptest.Failure{Status: 429}, wazzuptest.Failure{Status: 429})
	s.Post(s.Customer("971500002006", "hello"))
	sent, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, "Reply to: hello", sent[0].Text)
	posts := 0
	for _, r := range s.Wazzup.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/message") {
			posts++
		}
	}
	assert.Equal(t, 3, posts, "two rate-limited attempts, then the send")
}

// A disconnected WhatsApp line: one attempt, an alert for the managers, the chat flagged —
// no retry storm, no silent loss.
func TestDisconnectedChannelAlertsOnce(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.Wazzup.SetChannelState("qridle")
	s.Post(s.Customer("971500002007", "hello"))
	conv := s.Conversation("971500002007")
	s.WaitIdle(conv.ID, 1, 30*time.Second)
	require.Eventually(t, func() bool { return s.State(conv.ID).NeedsHuman }, 20*time.Second, 50*time.Millisecond)
	st := s.State(conv.ID)
	assert.Contains(t, st.NeedsHumanReason, "unavailable")
	var alerts int
	require.Eventually(t, func() bool {
		_ = s.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notifications WHERE kind = 'channel_unavailable'`).Scan(&alerts)
		return alerts == 1
	}, 20*time.Second, 50*time.Millisecond, "one alert for the managers")
	posts := 0
	for _, r := range s.Wazzup.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/message") {
			posts++
		}
	}
	assert.Equal(t, 1, posts, "no retry storm against a disconnected line")
	assert.Empty(t, s.Wazzup.Sent())
	rec, err := s.Store.OutboundByKey(context.Background(), "reply:"+conv.ID+":1")
	require.NoError(t, err)
	assert.Equal(t, "error", rec.Status, "the undelivered reply is recorded, not dropped")
}

// A voice note is downloaded and transcribed; the transcript is answered like typed text.
// When transcription fails, the customer is asked to type, and the model is not called.
func TestVoiceNotesAreTranscribedOrAskedToBeTyped(t *testing.T) {
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/ogg")
		_, _ = w.Write([]byte("OggS fake opus audio for " + r.URL.Path))
	}))
	defer media.Close()
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	transcript := "Hi, this is Daniel from Nordlicht Engineering. We need four ergonomic chairs with good lumbar support."
	s.LLM.SetTranscript(transcript)
	voice := s.Customer("971509876543", "")
	voice.Type, voice.ContentURI = "audio", media.URL+"/media/voice-en.ogg"
	s.Post(voice)
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, "Reply to: [voice message, transcribed] "+transcript, sent[0].Text, "the model knows it was a voice note")
	tr := s.LLM.Transcriptions()
	require.Len(t, tr, 1)
	assert.Equal(t, "voice-en.ogg", tr[0].Filename)
	assert.Contains(t, string(tr[0].Audio), "fake opus audio")
	conv := s.Conversation("971509876543")
	msgs, err := s.Store.Messages(context.Background(), conv.ID, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, transcript, msgs[0].Text, "the transcript is stored for the console")

	s.LLM.FailTranscription(500)
	calls := len(s.ReplyRequests())
	failing := s.Customer("971503334455", "")
	failing.Type, failing.ContentURI = "audio", media.URL+"/media/voice-ar.ogg"
	s.Post(failing)
	_, err = s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	assert.Equal(t, activities.FixedText("voice_fallback", "en"), s.Wazzup.SentTo("971503334455")[0].Text)
	assert.Equal(t, calls, len(s.ReplyRequests()), "no LLM call for a voice note nobody could hear")
}
