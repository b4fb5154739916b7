package console_test

// Browser tests against the whole product (internal/stacktest): the real API and console,
// a real worker on the Temporal dev server, PostgreSQL, and the in-repo fakes of Wazzup and
// the LLM. What the console does must reach the customer (the fake Wazzup) and the
// workflows (the next LLM call).

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/stacktest"
	"github.com/treejar/noor/prompts"
	"github.com/treejar/noor/workflows"
)

// The stack's bootstrap admin (stacktest sets ADMIN_USERNAME/ADMIN_PASSWORD).
const (
	stackAdmin     = "admin"
	stackAdminPass = "admin-password"
)

// stackEnv is the env of a whole stack, for the helpers shared with the other tests.
func stackEnv(t *testing.T, s *stacktest.Stack) *env {
	return &env{t: t, store: s.Store, srv: s.Server, http: s.API, cfg: s.Config}
}

// salesModel is a fake model that behaves like the prompt asks: a chair question gets a
// search and a stage move first, then a reply in the customer's language without numbers.
func salesModel(s *stacktest.Stack) {
	s.LLM.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		if r.Model == stacktest.FastModel {
			return llmtest.Reply{Content: "{}"}
		}
		arabic := strings.Contains(r.System(), "whole reply in Arabic")
		if strings.Contains(r.LastUserText(), "كرسي") && llmtest.OffersTool(r, "search_products") &&
			!llmtest.HasToolResult(r, "search_products") {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{
				llmtest.Call("advance_stage", map[string]string{"stage": "qualifying"}),
				llmtest.Call("search_products", map[string]string{"query": "ergonomic office chair"}),
			}}
		}
		if arabic {
			return llmtest.Reply{Content: "أهلاً بك! أنا نور من تري جار، لدينا عدة كراسي مكتب مريحة متوفرة الآن."}
		}
		return llmtest.Reply{Content: "Hi, I'm Noor from Treejar: yes, we deliver across the UAE."}
	})
}

func sentWith(msgs []wazzuptest.SentMessage, chat, text string) (wazzuptest.SentMessage, bool) {
	for _, m := range msgs {
		if m.ChatID == chat && strings.Contains(m.Text, text) {
			return m, true
		}
	}
	return wazzuptest.SentMessage{}, false
}

// download clicks a link that starts a download and returns the downloaded file.
func (b *browserT) download(sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	events := true
	b.run(
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
	)
	var guid string
	for ev, err := range progress {
		require.NoError(b.t, err, "the download did not complete")
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, guid))
	require.NoError(b.t, err)
	return raw
}

// clickAndWaitFlash submits a form with the button and waits for the page it leads to.
func (b *browserT) clickAndWaitFlash(sel, flash string) {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(sel)))
	b.waitJS(`document.readyState === "complete" && !!document.getElementById("flash") && document.getElementById("flash").textContent.includes(` +
		jsString(flash) + `)`)
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func TestStackBrowserManagerTakesOverRepliesAndHandsBack(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Seed: true, Debounce: time.Second})
	salesModel(s)
	ctx := context.Background()
	arChat, enChat := "971507770001", "971507770002"
	s.Post(s.Customer(arChat, "مرحبا، أبحث عن كرسي مكتب مريح لفريقي"))
	s.Post(s.Customer(enChat, "Hello, do you deliver to Sharjah?"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 2)
	require.NoError(t, err)
	ar, en := s.Conversation(arChat), s.Conversation(enChat)
	s.WaitIdle(ar.ID, 1, 30*time.Second)
	s.WaitIdle(en.ID, 1, 30*time.Second)
	first, ok := sentWith(s.Wazzup.Sent(), arChat, "نور")
	require.True(t, ok, "Noor answered the Arabic customer: %+v", s.Wazzup.Sent())

	e := stackEnv(t, s)
	b := newBrowser(t, e)
	b.login(stackAdmin, stackAdminPass)

	// Dashboard: today's numbers are the store's.
	p, err := db.PeriodFor("today", time.Now(), dubaiLoc(t))
	require.NoError(t, err)
	d, err := s.Store.Dashboard(ctx, p)
	require.NoError(t, err)
	require.Equal(t, 2, d.Conversations)
	b.run(chromedp.WaitVisible(chromedp.CSS("#kpis")))
	assert.Equal(t, "2", b.text("#kpi-conversations"))
	assert.Equal(t, itoa(int64(d.Messages)), b.text("#kpi-messages"))
	assert.Equal(t, 4, d.Messages, "two questions, two answers")
	b.screenshot("dashboard")

	// Filter by language and open the Arabic chat: its text reads right-to-left.
	b.run(chromedp.Navigate(b.url("/console/conversations")), chromedp.WaitVisible(chromedp.CSS("#conversations")))
	assert.Equal(t, 2, evalAs[int](b, `document.querySelectorAll('tr.conv-row').length`))
	b.run(chromedp.SetValue(chromedp.CSS("#f-language"), "ar"))
	b.waitJS(`location.search === "?language=ar" && document.readyState === "complete"`)
	assert.Equal(t, 1, evalAs[int](b, `document.querySelectorAll('tr.conv-row').length`))
	b.screenshot("conversations-arabic")
	raw := b.download("#export-conversations")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "the export has the filter applied")
	assert.Equal(t, ar.ID, rows[1][0])
	require.NoError(t, os.WriteFile(filepath.Join(artifactsDir(t), t.Name()+"-conversations.csv"), raw, 0o644))

	b.run(chromedp.Click(chromedp.CSS("a.conv-link")), chromedp.WaitVisible(chromedp.CSS("#thread")))
	assert.Equal(t, "rtl", evalAs[string](b, `getComputedStyle(document.querySelector('.msg-customer .msg-text')).direction`))
	assert.Equal(t, "rtl", evalAs[string](b, `getComputedStyle(document.querySelector('.msg-noor .msg-text')).direction`))
	assert.Equal(t, first.Text, b.text(".msg-noor .msg-text"))

	// The turn: its stage move on the timeline, its tool calls with inputs, outputs and cost.
	assert.Equal(t, "qualifying", b.text("#conv-stage"))
	assert.Contains(t, b.text("#timeline li.changed"), "greeting → qualifying")
	b.run(chromedp.Click(chromedp.CSS("details.turn > summary")))
	search := `.step[data-name="search_products"]`
	assert.Contains(t, b.text(search+" .step-in"), "ergonomic office chair")
	assert.Contains(t, b.text(search+" .step-out"), "sku", "the search result is shown")
	assert.Contains(t, b.text(`.step[data-name="advance_stage"] .step-in`), "qualifying", "a workflow tool's input comes from the model's call")
	assert.Contains(t, b.text(`.step[data-name="advance_stage"] .step-out`), "the stage is now qualifying")
	assert.Equal(t, 2, evalAs[int](b, `document.querySelectorAll('.step-llm[data-name="agent"]').length`), "two LLM rounds")
	assert.Contains(t, b.text("details.turn > summary"), "2 tool call(s)")
	b.screenshot("conversation-turn")

	// Take over: the database and the workflow agree that a human owns the chat.
	b.clickAndWaitFlash("#act-takeover", "You own this chat now")
	assert.Equal(t, "human", b.text("#conv-owner"))
	require.Eventually(t, func() bool { return s.State(ar.ID).Owner == "human" }, 20*time.Second, 50*time.Millisecond,
		"the workflow knows a human owns the chat")

	// Reply as the manager: it goes out through the gateway to the customer.
	reply := "مرحباً، أنا من فريق المبيعات وسأساعدك في اختيار الكراسي."
	b.run(chromedp.SendKeys(chromedp.CSS("#reply-text"), reply))
	b.clickAndWaitFlash("#act-reply", "Sent on WhatsApp")
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 3)
	require.NoError(t, err)
	m, ok := sentWith(sent, arChat, reply)
	require.True(t, ok, "the fake Wazzup received the manager's reply: %+v", sent)
	assert.True(t, strings.HasPrefix(m.CRMMessageID, "console-reply:"+ar.ID+":"), m.CRMMessageID)
	assert.Equal(t, reply, b.text(".msg-manager .msg-text"))
	assert.Contains(t, b.text(".msg-manager .author"), stackAdmin)
	b.screenshot("manager-replied")

	// Hand back: the next customer message gets Noor's answer again.
	b.run(chromedp.SendKeys(chromedp.CSS("#handback-note"), "customer wants 8 chairs"))
	b.clickAndWaitFlash("#act-handback", "Handed back")
	assert.Equal(t, "bot", b.text("#conv-owner"))
	assert.Equal(t, "bot", s.State(ar.ID).Owner)
	s.Post(s.Customer(arChat, "شكراً لك، وهل لديكم مكاتب أيضاً؟"))
	sent, err = s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 4)
	require.NoError(t, err)
	assert.Equal(t, arChat, sent[3].ChatID)
	assert.True(t, strings.HasPrefix(sent[3].CRMMessageID, "reply:"+ar.ID+":"), "a bot reply: %s", sent[3].CRMMessageID)
	s.WaitIdle(ar.ID, 2, 30*time.Second)
	reqs := s.ReplyRequests()
	assert.Contains(t, reqs[len(reqs)-1].System(), "# Note from the manager who handled this chat\ncustomer wants 8 chairs",
		"Noor reads the manager's hand-back note")
	b.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#thread")))
	assert.Equal(t, 2, evalAs[int](b, `document.querySelectorAll('.msg-noor').length`))
	assert.Equal(t, 2, evalAs[int](b, `document.querySelectorAll('#timeline li').length`))
	b.screenshot("handed-back")

	audit, err := s.Store.AuditLog(ctx, "conversation.", 10, 0)
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
		assert.Equal(t, stackAdmin, a.Actor)
	}
	assert.ElementsMatch(t, []string{"conversation.takeover", "conversation.reply", "conversation.handback"}, actions)
	assert.Empty(t, b.dialogsSeen())
}

func TestStackBrowserEscalateTakeResolveAndClose(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: time.Second})
	salesModel(s)
	ctx := context.Background()
	chat := "971507770003"
	s.Post(s.Customer(chat, "Hello, do you deliver to Sharjah?"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	conv := s.Conversation(chat)
	s.WaitIdle(conv.ID, 1, 30*time.Second)

	b := newBrowser(t, stackEnv(t, s))
	b.login(stackAdmin, stackAdminPass)
	b.run(chromedp.Navigate(b.url("/console/conversations/"+conv.ID)), chromedp.WaitVisible(chromedp.CSS("#thread")))

	// Escalate: the workflow opens an escalation, acknowledges the customer once, alerts.
	b.clickAndWaitFlash("#act-escalate", "Escalated")
	assert.Contains(t, b.text("#conv-status"), "escalated")
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sent[1].CRMMessageID, "escalation-ack:"+conv.ID), sent[1].CRMMessageID)
	var escID int64
	require.Eventually(t, func() bool {
		rows, err := s.Store.ListEscalationRows(ctx, db.EscalationRowFilter{ConversationID: conv.ID})
		if err != nil || len(rows) != 1 {
			return false
		}
		escID = rows[0].ID
		return true
	}, 20*time.Second, 50*time.Millisecond, "the escalation row")
	var alerts []db.Notification
	require.Eventually(t, func() bool {
		alerts, err = s.Store.ListNotifications(ctx, db.NotificationFilter{ConversationID: conv.ID})
		return err == nil && len(alerts) > 0
	}, 20*time.Second, 50*time.Millisecond, "the managers' alert")

	// The notifications log shows what went to the managers.
	b.run(chromedp.Navigate(b.url("/console/notifications")), chromedp.WaitVisible(chromedp.CSS("#notifications")))
	row := `#notifications tr[data-id="` + itoa(alerts[len(alerts)-1].ID) + `"]`
	assert.Contains(t, b.text(row), alerts[len(alerts)-1].Title)
	assert.Contains(t, b.text(row), "sent")
	b.screenshot("notifications")

	// Take and resolve from the escalations queue, through the escalation workflow.
	b.run(chromedp.Navigate(b.url("/console/escalations")), chromedp.WaitVisible(chromedp.CSS("#escalations")))
	b.clickAndWaitFlash("#take-"+itoa(escID), "Escalation taken")
	var e db.Escalation
	require.Eventually(t, func() bool {
		e, err = s.Store.Escalation(ctx, escID)
		return err == nil && e.Status == workflows.EscalationInProgress
	}, 20*time.Second, 50*time.Millisecond, "taken")
	assert.Equal(t, stackAdmin, e.TakenBy)
	assert.Equal(t, "console", e.TakenVia)
	b.screenshot("escalation-taken")
	b.run(chromedp.SendKeys(chromedp.CSS("#resolve-note-"+itoa(escID)), "delivery confirmed by phone"))
	b.clickAndWaitFlash("#resolve-"+itoa(escID), "Escalation resolved")
	require.Eventually(t, func() bool {
		e, err = s.Store.Escalation(ctx, escID)
		return err == nil && e.Status == workflows.EscalationResolved
	}, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, "delivery confirmed by phone", e.ResolutionNote)
	require.Eventually(t, func() bool {
		st := s.State(conv.ID)
		return st.Status == "active" && st.Owner == "bot"
	}, 20*time.Second, 50*time.Millisecond, "resolving hands the chat back")
	b.screenshot("escalation-resolved")

	// Close the conversation (the console's confirm() is accepted by the test browser).
	b.run(chromedp.Navigate(b.url("/console/conversations/"+conv.ID)), chromedp.WaitVisible(chromedp.CSS("#thread")))
	b.clickAndWaitFlash("#act-close", "Conversation closed")
	assert.Contains(t, b.text("#conv-status"), "closed")
	assert.Equal(t, "closed", s.State(conv.ID).Status)
	assert.Len(t, b.dialogsSeen(), 1, "closing asked for confirmation")
	b.screenshot("closed")
}

func TestStackBrowserPromptAndSettingReachTheNextTurn(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	salesModel(s)
	chat := "971507770004"
	ask := func(n int, text string) llmtest.ChatRequest {
		t.Helper()
		s.Post(s.Customer(chat, text))
		_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), n)
		require.NoError(t, err)
		conv := s.Conversation(chat)
		s.WaitIdle(conv.ID, n, 30*time.Second)
		reqs := s.ReplyRequests()
		require.NotEmpty(t, reqs)
		return reqs[len(reqs)-1]
	}
	def, err := prompts.Default("system")
	require.NoError(t, err)
	firstLine, _, _ := strings.Cut(strings.TrimSpace(def), "\n")
	req := ask(1, "Hello, do you deliver to Sharjah?")
	require.Contains(t, req.System(), firstLine)

	b := newBrowser(t, stackEnv(t, s))
	b.login(stackAdmin, stackAdminPass)

	// Edit the system prompt: the next turn's LLM call carries the new text.
	marker := "PROMPT-V2: greet as Noor, answer first, ask at most one question."
	b.run(
		chromedp.Navigate(b.url("/console/prompts/system")),
		chromedp.WaitVisible(chromedp.CSS("#prompt-text")),
		chromedp.SetValue(chromedp.CSS("#prompt-text"), def+"\n"+marker),
		chromedp.SendKeys(chromedp.CSS("#prompt-note"), "one question"),
	)
	b.clickAndWaitFlash("#prompt-save", "Saved")
	assert.Equal(t, "v2", b.text("#active-version"))
	b.screenshot("prompt-edited")
	req = ask(2, "And to Ajman?")
	assert.Contains(t, req.System(), marker, "the workflow uses the active version from the next turn on")

	// Roll back: the turn after that has the old text again.
	b.run(chromedp.Click(chromedp.CSS("#rollback-v1")))
	b.waitJS(`document.readyState === "complete" && !!document.querySelector('tr[data-version="3"]')`)
	assert.Equal(t, "v3", b.text("#active-version"))
	b.screenshot("prompt-rolled-back")
	req = ask(3, "And to Fujairah?")
	assert.NotContains(t, req.System(), marker)
	assert.Contains(t, req.System(), firstLine)

	// Change a setting: the next reply call uses it.
	field := `input[name="llm.reply_max_tokens"]`
	b.run(
		chromedp.Navigate(b.url("/console/settings")),
		chromedp.WaitVisible(chromedp.CSS("#settings-form")),
		chromedp.SetValue(chromedp.CSS(field), "333"),
	)
	b.clickAndWaitFlash("#settings-save", "Saved")
	b.screenshot("setting-saved")
	req = ask(4, "Thanks! One more: Al Ain?")
	assert.Equal(t, 333, req.MaxTokens)
	assert.Len(t, b.dialogsSeen(), 1, "only the rollback's confirmation")
}

func TestStackBrowserCatalogSyncProgressReaches100(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{})
	ctx := context.Background()
	b := newBrowser(t, stackEnv(t, s))
	b.login(stackAdmin, stackAdminPass)
	b.run(chromedp.Navigate(b.url("/console/catalog")), chromedp.WaitVisible(chromedp.CSS("#sync-now")))
	assert.Contains(t, b.text("#sync-history"), "No sync has run yet")
	b.screenshot("before")
	b.run(chromedp.Click(chromedp.CSS("#sync-now")))
	b.waitJS(`!!document.getElementById("sync-run")`)
	b.screenshot("started")

	// Watch the bar: it only moves forward and ends at 100 % with the run's counts.
	var seen []int
	var last string
	require.Eventually(t, func() bool {
		c, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[int](`(function(){var p=document.getElementById("sync-progress");return p?Math.round(p.value):-1})()`))
		if err != nil || v < 0 {
			return false
		}
		if len(seen) == 0 || seen[len(seen)-1] != v {
			seen = append(seen, v)
		}
		st, err := chromedp.Run(c, chromedp.Evaluate[string](`(document.getElementById("sync-status")||{}).textContent||""`))
		if err != nil {
			return false
		}
		last = st
		return v == 100 && st != "running"
	}, 2*time.Minute, 100*time.Millisecond, "the progress bar reaches 100 %%")
	assert.Equal(t, "succeeded", last)
	for i := 1; i < len(seen); i++ {
		assert.GreaterOrEqual(t, seen[i], seen[i-1], "the bar never moves back: %v", seen)
	}
	t.Logf("progress values seen: %v", seen)
	// When the run ends the page reloads once, so the history shows the finished run.
	b.waitJS(`document.readyState === "complete" && !!document.querySelector("#sync-history tr[data-run]") &&
		document.querySelector("#sync-history tr[data-run]").textContent.includes("succeeded")`)
	assert.Equal(t, "100 %", b.text("#sync-percent"))
	b.screenshot("finished")

	runs, err := s.Store.SyncRuns(ctx, 5)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	run := runs[0]
	assert.Equal(t, "succeeded", run.Status)
	assert.Equal(t, "console", run.Trigger)
	assert.Positive(t, run.Counts.Added)
	hist := b.text(`#sync-history tr[data-run="` + run.ID + `"]`)
	assert.Contains(t, hist, "succeeded")
	assert.Contains(t, hist, itoa(int64(run.Counts.Added)))
	var products int
	require.NoError(t, s.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE active`).Scan(&products))
	assert.Equal(t, run.Counts.Added, products)

	audit, err := s.Store.AuditLog(ctx, "catalog.", 5, 0)
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, run.ID, audit[0].Target)
}

func TestStackBrowserKnowledgeDocumentWrittenAndPreviewed(t *testing.T) {
	// The demo knowledge base is there too: the new document must win on its own topic.
	s := stacktest.New(t, stacktest.Options{Seed: true})
	b := newBrowser(t, stackEnv(t, s))
	b.login(stackAdmin, stackAdminPass)
	b.run(chromedp.Navigate(b.url("/console/knowledge")), chromedp.WaitVisible(chromedp.CSS("#kb-new")))
	b.run(chromedp.Click(chromedp.CSS("#kb-new")), chromedp.WaitVisible(chromedp.CSS("#kb-form")))
	b.run(
		chromedp.SendKeys(chromedp.CSS("#kb-name"), "loyalty.md"),
		chromedp.SendKeys(chromedp.CSS("#kb-title"), "Loyalty card"),
		chromedp.SetValue(chromedp.CSS("#kb-body"), "# Loyalty card\n\nRepeat customers get the Treejar loyalty card: every order adds points worth 3 % of its value, redeemable on the next order.\n"),
	)
	b.screenshot("form")
	b.clickAndWaitFlash("#kb-save", "Saved")
	// The indexer (a workflow on the worker) picks it up; the page says so after a reload.
	require.Eventually(t, func() bool {
		k, err := s.Store.KBSource(context.Background(), "console:loyalty.md")
		return err == nil && k.Indexed
	}, 60*time.Second, 100*time.Millisecond, "indexed")
	b.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#kb-sources")))
	assert.Contains(t, b.text(`#kb-sources tr[data-source="console:loyalty.md"]`), "indexed")
	assert.Contains(t, b.text(`#kb-docs tr[data-source="console:loyalty.md"]`), "Loyalty card")

	b.run(chromedp.SendKeys(chromedp.CSS("#kb-question"), "do you have a loyalty card?"), chromedp.Click(chromedp.CSS("#kb-ask")))
	b.waitJS(`document.readyState === "complete" && !!document.getElementById("kb-hits")`)
	assert.Equal(t, "console:loyalty.md", evalAs[string](b, `document.querySelector("#kb-hits li").getAttribute("data-source")`))
	assert.Contains(t, b.text("#kb-hits li"), "points worth 3 %")
	b.screenshot("preview")
	assert.Empty(t, b.dialogsSeen())
}
