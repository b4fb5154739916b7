package console_test

// Browser tests: headless Chromium driven by chromedp against the real server (httptest)
// on a real database. Each test saves screenshots under testdata/artifacts/ at the
// repository root (gitignored).

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/prompts"
)

const chromiumPath = "/usr/bin/chromium"

type browserT struct {
	t   *testing.T
	ctx context.Context
	e   *env

	mu      sync.Mutex
	dialogs []string
}

func newBrowser(t *testing.T, e *env) *browserT {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	require.NoError(t, err, "Chromium is installed by `make test` (scripts/bootstrap.sh)")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browserT{t: t, ctx: ctx, e: e}
	// Every JavaScript dialog is recorded (an XSS payload would open one) and accepted
	// (the console's own confirm() before a rollback). The listener must not block, so
	// the answer goes from another goroutine.
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch d := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			msg = d.Message
		case page.EventJavascriptDialogOpening:
			msg = d.Message
		default:
			return
		}
		b.mu.Lock()
		b.dialogs = append(b.dialogs, msg)
		b.mu.Unlock()
		go func() {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}()
	}), "start Chromium")
	return b
}

func (b *browserT) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
}

func (b *browserT) url(path string) string { return b.e.http.URL + path }

func (b *browserT) dialogsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// artifactsDir is testdata/artifacts at the repository root.
func artifactsDir(t *testing.T) string {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test")
		dir = parent
	}
	out := filepath.Join(dir, "testdata", "artifacts")
	require.NoError(t, os.MkdirAll(out, 0o755))
	return out
}

func (b *browserT) screenshot(name string) {
	b.t.Helper()
	// A page that is still loading (a form post redirecting, a reload) has no size yet and
	// cannot be captured: wait until it is laid out, and try again if a navigation started
	// in between.
	var buf []byte
	require.Eventually(b.t, func() bool {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.readyState === "complete" && document.documentElement.clientWidth > 0 && document.body !== null`))
		if err != nil || !ready {
			return false
		}
		buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err == nil && len(buf) > 0
	}, 30*time.Second, 50*time.Millisecond, "screenshot %s", name)
	path := filepath.Join(artifactsDir(b.t), b.t.Name()+"-"+name+".png")
	require.NoError(b.t, os.WriteFile(path, buf, 0o644))
	b.t.Logf("screenshot: %s", path)
}

func (b *browserT) login(user, pass string) {
	b.t.Helper()
	b.run(
		chromedp.Navigate(b.url("/console/")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), pass),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#who")),
	)
}

// waitJS waits until the expression is true in the page (e.g. after a navigation that
// a click started, before looking at the new page).
func (b *browserT) waitJS(expr string) {
	b.t.Helper()
	// Evaluated afresh each time: a navigation in flight replaces the page's JS context.
	require.Eventually(b.t, func() bool {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		return err == nil && ok
	}, 20*time.Second, 50*time.Millisecond, expr)
}

func (b *browserT) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, sel)
	return strings.TrimSpace(s)
}

func evalAs[T any](b *browserT, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, js)
	return v
}

func TestBrowserLoginDashboardFilterAndArabicThread(t *testing.T) {
	e := newEnv(t, envOpts{})
	now := time.Now()
	en := e.seedConv(convSeed{Chat: "971501234567", Name: "John Buyer", Company: "Acme", Stage: "solution"})
	e.seedMsg(en, "customer", "I need 10 ergonomic chairs", now.Add(-20*time.Minute), 0)
	e.seedMsg(en, "noor", "Here are three options in stock.", now.Add(-20*time.Minute+5*time.Second), 0.0004)
	ar := e.seedConv(convSeed{Chat: "971507654321", Name: "أحمد", Lang: "ar", Stage: "qualifying"})
	e.seedMsg(ar, "customer", "مرحبا، أريد كرسي مكتب مريح", now.Add(-10*time.Minute), 0)
	e.seedMsg(ar, "noor", "أهلاً! لدينا CH 145 black بسعر 650 درهم.", now.Add(-10*time.Minute+7*time.Second), 0.0003)
	e.seedEscalation(ar, 1, "human_request", "wants a manager", "pending", now.Add(-9*time.Minute))

	b := newBrowser(t, e)
	b.login(adminUser, adminPass)

	// Dashboard: the numbers on the page are the store's numbers.
	p, err := db.PeriodFor("today", time.Now(), dubaiLoc(t))
	require.NoError(t, err)
	d, err := e.store.Dashboard(context.Background(), p)
	require.NoError(t, err)
	require.Equal(t, 2, d.Conversations)
	b.run(chromedp.WaitVisible(chromedp.CSS("#kpis")))
	assert.Equal(t, "2", b.text("#kpi-conversations"))
	assert.Equal(t, "1", b.text("#kpi-escalations"))
	assert.Equal(t, "$0.0007", b.text("#kpi-cost"))
	bars := evalAs[int](b, `document.querySelectorAll('svg.chart rect.bar').length`)
	assert.Positive(t, bars, "charts are drawn")
	b.screenshot("dashboard")

	// Filter the conversations by language with the form.
	b.run(
		chromedp.Navigate(b.url("/console/conversations")),
		chromedp.WaitVisible(chromedp.CSS("#conversations")),
	)
	rows := evalAs[int](b, `document.querySelectorAll('tr.conv-row').length`)
	assert.Equal(t, 2, rows)
	// Choosing a value submits the filter form (console.js); SetValue fires the change event.
	b.run(chromedp.SetValue(chromedp.CSS("#f-language"), "ar"))
	b.waitJS(`location.search === "?language=ar" && document.readyState === "complete"`)
	rows = evalAs[int](b, `document.querySelectorAll('tr.conv-row').length`)
	assert.Equal(t, 1, rows)
	var loc string
	loc = evalAs[string](b, `location.search`)
	assert.Equal(t, "?language=ar", loc, "empty filters are left out of the URL")
	b.screenshot("conversations-filtered")

	// Open it: the Arabic message reads right-to-left, the English UI left-to-right.
	b.run(
		chromedp.Click(chromedp.CSS("a.conv-link")),
		chromedp.WaitVisible(chromedp.CSS("#thread")),
	)
	var dirCustomer, dirNoor, dirPage string
	dirCustomer = evalAs[string](b, `getComputedStyle(document.querySelector('.msg-customer .msg-text')).direction`)
	dirNoor = evalAs[string](b, `getComputedStyle(document.querySelector('.msg-noor .msg-text')).direction`)
	dirPage = evalAs[string](b, `getComputedStyle(document.querySelector('main')).direction`)
	assert.Equal(t, "rtl", dirCustomer)
	assert.Equal(t, "rtl", dirNoor, "Noor's Arabic reply with a Latin SKU is still right-to-left")
	assert.Equal(t, "ltr", dirPage)
	assert.Equal(t, "مرحبا، أريد كرسي مكتب مريح", b.text(".msg-customer .msg-text"))
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("#temporal-link"), "href"))
	require.NoError(t, err)
	assert.Equal(t, "http://temporal-ui.test:8233/namespaces/default/workflows/conversation-"+ar, href.Value)
	// The actions are wired to the conversation workflow (exercised against the whole stack
	// in stack_browser_test.go); a bot-owned chat offers take over and reply, not hand back.
	assert.Equal(t, 1, evalAs[int](b, `document.querySelectorAll('#act-takeover, #reply-text').length - 1`))
	assert.Equal(t, 0, evalAs[int](b, `document.querySelectorAll('#act-handback').length`))
	b.screenshot("conversation-arabic")

	// The same page on a phone: nothing overflows sideways.
	b.run(chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#thread")))
	var overflow bool
	overflow = evalAs[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`)
	assert.False(t, overflow, "the conversation page fits a phone screen")
	b.screenshot("conversation-phone")
	assert.Empty(t, b.dialogsSeen())
}

func dubaiLoc(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Asia/Dubai")
	require.NoError(t, err)
	return l
}

func TestBrowserEditPromptAndRollBack(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := newBrowser(t, e)
	b.login(adminUser, adminPass)
	def, err := prompts.Default("system")
	require.NoError(t, err)

	newText := "You are Noor, Treejar's salesperson.\nAnswer first, ask at most one question."
	b.run(
		chromedp.Navigate(b.url("/console/prompts")),
		chromedp.WaitVisible(chromedp.CSS("#prompts")),
		chromedp.Click(chromedp.CSS(`a[href="/console/prompts/system"]`)),
		chromedp.WaitVisible(chromedp.CSS("#prompt-text")),
		chromedp.SetValue(chromedp.CSS("#prompt-text"), newText),
		chromedp.SendKeys(chromedp.CSS("#prompt-note"), "answer first"),
		chromedp.Click(chromedp.CSS("#prompt-save")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	assert.Equal(t, "v2", b.text("#active-version"))
	assert.Contains(t, b.text("#diff"), "+ Answer first, ask at most one question.")
	firstLine, _, _ := strings.Cut(strings.TrimSpace(def), "\n")
	assert.Contains(t, b.text("#diff"), "- "+firstLine)
	text, v, err := e.store.Prompt(context.Background(), "system")
	require.NoError(t, err)
	assert.Equal(t, newText, text, "the workflows' source serves the new version")
	assert.Equal(t, 2, v)
	b.screenshot("prompt-edited")

	b.run(
		chromedp.Click(chromedp.CSS("#rollback-v1")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-version="3"]`)),
	)
	assert.Equal(t, "v3", b.text("#active-version"))
	assert.Contains(t, b.text("#flash"), "Rolled back")
	assert.Contains(t, b.text(`tr[data-version="3"]`), "rollback to v1")
	text, v, err = e.store.Prompt(context.Background(), "system")
	require.NoError(t, err)
	assert.Equal(t, def, text)
	assert.Equal(t, 3, v)
	assert.Len(t, b.dialogsSeen(), 1, "the rollback asked for confirmation")
	b.screenshot("prompt-rolled-back")
}

func TestBrowserChangeSetting(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := newBrowser(t, e)
	b.login(adminUser, adminPass)
	field := `input[name="escalation.order_threshold_aed"]`

	// An invalid value is refused with the message next to the field; nothing is saved.
	b.run(
		chromedp.Navigate(b.url("/console/settings")),
		chromedp.WaitVisible(chromedp.CSS("#settings-form")),
		chromedp.SetValue(chromedp.CSS(field), "-5"),
		chromedp.Click(chromedp.CSS("#settings-save")),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="escalation.order_threshold_aed"] .field-error`)),
	)
	assert.Contains(t, b.text(`[data-field="escalation.order_threshold_aed"] .field-error`), "must be positive")
	rec, err := e.store.Settings(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, rec.Version)
	b.screenshot("settings-invalid")

	b.run(
		chromedp.SetValue(chromedp.CSS(field), "15000"),
		chromedp.Click(chromedp.CSS("#settings-save")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	assert.Equal(t, "v1", b.text("#settings-version"))
	rec, err = e.store.Settings(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 15000.0, rec.Settings.Escalation.OrderThresholdAED)
	assert.Equal(t, adminUser, rec.UpdatedBy)
	// Everything else survived the round trip through the form unchanged.
	want := rec.Settings
	audit, err := e.store.AuditLog(context.Background(), "settings.", 5, 0)
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Contains(t, string(audit[0].Before), `"order_threshold_aed": 10000`)
	assert.Contains(t, string(audit[0].After), `"order_threshold_aed": 15000`)
	assert.Equal(t, want.FollowUps.OptOutKeywords, settings.Defaults().FollowUps.OptOutKeywords)
	assert.Equal(t, want.Escalation.SoftTriggers, settings.Defaults().Escalation.SoftTriggers)
	assert.Equal(t, want.Pricing.CRMStageMapping, settings.Defaults().Pricing.CRMStageMapping)
	assert.Equal(t, want.FollowUps.QuoteDelays, settings.Defaults().FollowUps.QuoteDelays)
	b.screenshot("settings-saved")
}

func TestBrowserExportCSV(t *testing.T) {
	e := newEnv(t, envOpts{})
	now := time.Now()
	ar := e.seedConv(convSeed{Chat: "971508888888", Name: "سارة", Lang: "ar"})
	e.seedMsg(ar, "customer", "السلام عليكم", now.Add(-time.Minute), 0)
	en := e.seedConv(convSeed{Chat: "971509999999", Name: "Mike"})
	e.seedMsg(en, "customer", "hi", now.Add(-time.Minute), 0)

	b := newBrowser(t, e)
	dir := t.TempDir()
	b.login(adminUser, adminPass)
	b.run(
		chromedp.Navigate(b.url("/console/conversations?language=ar")),
		chromedp.WaitVisible(chromedp.CSS("#export-conversations")),
	)
	b.screenshot("export-page")
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
		chromedp.Click(chromedp.CSS("#export-conversations")),
	)
	var guid string
	for ev, err := range progress {
		require.NoError(t, err, "the CSV download did not complete")
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, guid))
	require.NoError(t, err)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "only the filtered conversation")
	assert.Equal(t, ar, rows[1][0])
	assert.Equal(t, "سارة", rows[1][1])
	require.NoError(t, os.WriteFile(filepath.Join(artifactsDir(t), t.Name()+"-conversations.csv"), raw, 0o644))
}

func TestBrowserHostileTextIsInert(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	conv := e.seedConv(convSeed{Chat: "971500000066", Name: xssScript, Company: xssImg})
	e.seedMsg(conv, "customer", xssImg+" "+xssScript, time.Now().Add(-time.Minute), 0)
	e.seedEscalation(conv, 1, "complaint", xssImg, "pending", time.Now().Add(-time.Minute))
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO products (slug, sku, name, category, category_slug, price)
		VALUES ('evil', 'EVIL-1', $1, 'Chairs', 'chairs', 10)`, xssImg+xssScript)
	require.NoError(t, err)

	b := newBrowser(t, e)
	b.login(adminUser, adminPass)
	for _, p := range []string{"/console/", "/console/conversations", "/console/conversations/" + conv,
		"/console/escalations", "/console/catalog"} {
		b.run(chromedp.Navigate(b.url(p)), chromedp.WaitReady(chromedp.CSS("body")))
		var imgs, scripts int
		imgs = evalAs[int](b, `document.querySelectorAll('img').length`)
		scripts = evalAs[int](b, `Array.from(document.scripts).filter(s => !s.src).length`)
		assert.Zero(t, imgs, "no injected <img> on %s", p)
		assert.Zero(t, scripts, "no injected <script> on %s", p)
	}
	b.run(chromedp.Navigate(b.url("/console/conversations/"+conv)), chromedp.WaitVisible(chromedp.CSS("#thread")))
	assert.Contains(t, b.text(".msg-customer .msg-text"), `<img src=x onerror=alert(1)>`, "shown as text")
	b.screenshot("conversation")
	b.run(chromedp.Navigate(b.url("/console/catalog?q=EVIL")), chromedp.WaitVisible(chromedp.CSS("#products")))
	assert.Contains(t, b.text("#products .product-name"), `<script>alert("xss")</script>`)
	b.screenshot("catalog")
	assert.Empty(t, b.dialogsSeen(), "no script ran")
}
