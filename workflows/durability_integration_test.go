package workflows_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/internal/stacktest"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/workflows"
)

// The worker process is killed (SIGKILL) while the reply is in flight to Wazzup; a new
// worker process picks the turn up. The customer receives exactly one reply.
func TestWorkerKilledAtTheSendStepStillSendsExactlyOneReply(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, NoWorker: true})
	echoReplies(s)
	release := s.Wazzup.Hold()
	defer release()
	first := s.StartWorkerProcess()

	chat := "971551220665"
	s.Post(s.Customer(chat, "Do you have the CH 616 in stock?"))
	select {
	case m := <-s.Wazzup.Held():
		assert.Equal(t, chat, m.ChatID)
	case <-time.After(60 * time.Second):
		t.Fatal("the reply never reached the provider")
	}
	first.Kill()
	// The provider goes on and delivers the request it already had; our worker never saw the answer.
	release()
	_, err := s.Wazzup.WaitForSent(s.Ctx(10*time.Second), 1)
	require.NoError(t, err)

	s.StartWorkerProcess()
	conv := s.Conversation(chat)
	st := s.WaitIdle(conv.ID, 1, 90*time.Second)
	assert.Equal(t, 1, st.TurnSeq)
	require.Eventually(t, func() bool {
		rec, err := s.Store.OutboundByKey(context.Background(), "reply:"+conv.ID+":1")
		return err == nil && rec.Status == "sent" && rec.Attempts >= 2
	}, 60*time.Second, 100*time.Millisecond, "the retried send is recorded as sent")
	assert.Len(t, s.Wazzup.Sent(), 1, "exactly one reply reached the customer")
	var turnStatus string
	require.NoError(t, s.Store.Pool.QueryRow(context.Background(), `SELECT status FROM turns WHERE conversation_id = $1`, conv.ID).Scan(&turnStatus))
	assert.Equal(t, "replied", turnStatus)
}

// Continue-as-new under a low threshold keeps the facts, the stage and a message that was
// still waiting in the debounce window.
func TestContinueAsNewKeepsFactsStageAndPendingMessages(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 4 * time.Second, ContinueAsNewEvents: 30})
	inFirstTurn := make(chan struct{}, 1)
	s.LLM.Handle(llmtest.Rules(
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return r.Model == stacktest.FastModel },
			Reply: func(llmtest.ChatRequest) llmtest.Reply { return llmtest.Reply{Content: "{}"} }},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool {
			return strings.Contains(r.Text("user"), "I'm Lina") && !llmtest.HasToolResult(r, "record_requirements")
		}, Reply: func(llmtest.ChatRequest) llmtest.Reply {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{
				{Name: "record_requirements", Arguments: `{"name":"Lina Haddad","company":"Cedarline","needs":"12 task chairs"}`},
				{Name: "advance_stage", Arguments: `{"stage":"needs_analysis"}`},
			}}
		}},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return !strings.Contains(r.LastUserText(), "budget") },
			Reply: func(llmtest.ChatRequest) llmtest.Reply {
				select {
				case inFirstTurn <- struct{}{}:
				default:
				}
				return llmtest.Reply{Content: "Nice to meet you, Lina! What is your budget per chair?", Delay: 1500 * time.Millisecond}
			}},
		llmtest.Rule{Match: func(llmtest.ChatRequest) bool { return true },
			Reply: func(llmtest.ChatRequest) llmtest.Reply { return llmtest.Reply{Content: "Thank you, noted."} }},
	))
	chat := "971526667788"
	s.Post(s.Customer(chat, "Hi, I'm Lina from Cedarline, we need 12 task chairs"))
	conv := s.Conversation(chat)
	select {
	case <-inFirstTurn:
	case <-time.After(60 * time.Second):
		t.Fatal("the first turn never reached its final LLM call")
	}
	// Arrives while turn 1 is still answering: its debounce window is still open when the
	// turn ends, so it is pending when the workflow continues as new.
	s.Post(s.Customer(chat, "Our budget is around 600 AED per chair"))

	_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 2)
	if err != nil {
		s.LogHistory(conv.ID)
	}
	require.NoError(t, err)
	st := s.WaitIdle(conv.ID, 2, 30*time.Second)

	// More than one run: the workflow continued as new.
	var resp *workflowservice.ListWorkflowExecutionsResponse
	require.Eventually(t, func() bool {
		resp, err = s.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: `WorkflowId = "` + workflows.ConversationWorkflowID(conv.ID) + `"`})
		return err == nil && len(resp.Executions) >= 2
	}, 20*time.Second, 200*time.Millisecond, "the conversation continued as new")

	assert.Equal(t, 2, st.TurnSeq, "the turn counter is carried")
	assert.Equal(t, "needs_analysis", st.Stage, "the stage is carried")
	assert.Equal(t, "Lina Haddad", st.Facts.Name, "the facts are carried")
	assert.Equal(t, "Cedarline", st.Facts.Company)
	reqs := s.ReplyRequests()
	last := reqs[len(reqs)-1]
	assert.Contains(t, last.LastUserText(), "600 AED", "the waiting message was answered after continue-as-new")
	assert.Contains(t, last.System(), "Name: Lina Haddad", "known facts are in the prompt of the new run")
	assert.Len(t, s.Wazzup.Sent(), 2)
}

// `noor replay` (the ops pre-deploy check) replays a live conversation's history against
// the binary's workflow code.
func TestReplayCommandChecksLiveConversations(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.Post(s.Customer("971500004001", "hello"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	conv := s.Conversation("971500004001")
	s.WaitIdle(conv.ID, 1, 20*time.Second)
	cmd := exec.Command(stacktest.Binary(t), "replay", "-w", conv.WorkflowID)
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+testenv.TemporalAddress(t), "APP_ENV=test", "DATABASE_URL="+s.DBURL)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "ok   "+conv.WorkflowID)
	assert.Contains(t, string(out), "1 replayed, 0 failed")
}
