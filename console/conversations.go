package console

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
)

const pageSize = 50

// filterForm is the conversations filter as the form shows it.
type filterForm struct {
	Status, Stage, Owner, Language, From, To, Escalated, HasQuote, Q string
	Page                                                             int
}

// Query renders the filters as a query string (for pagination and export links). It is
// built by url.Values.Encode, so it is safe to place after "?" verbatim; as a plain string
// html/template would escape its "=" and "&" and the link would lose its filters.
func (f filterForm) Query() template.URL {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "stage": f.Stage, "owner": f.Owner, "language": f.Language,
		"from": f.From, "to": f.To, "escalated": f.Escalated, "has_quote": f.HasQuote, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return template.URL(v.Encode()) //nolint:gosec // encoded by url.Values
}

// parseConversationFilter reads and validates the filters. Unknown values are rejected
// with a message rather than silently ignored, so a wrong link does not show wrong data.
func (cs *Console) parseConversationFilter(c echo.Context) (db.ConversationFilter, filterForm, error) {
	q := c.QueryParams()
	ff := filterForm{Status: q.Get("status"), Stage: q.Get("stage"), Owner: q.Get("owner"), Language: q.Get("language"),
		From: q.Get("from"), To: q.Get("to"), Escalated: q.Get("escalated"), HasQuote: q.Get("has_quote"), Q: q.Get("q")}
	ff.Page, _ = strconv.Atoi(q.Get("page"))
	if ff.Page < 1 {
		ff.Page = 1
	}
	if ff.Page > 10000 {
		ff.Page = 10000
	}
	f := db.ConversationFilter{Status: ff.Status, Stage: ff.Stage, Owner: ff.Owner, Language: ff.Language,
		Search: ff.Q, Limit: pageSize, Offset: (ff.Page - 1) * pageSize}
	check := func(name, v string, allowed []string) error {
		if v != "" && !slices.Contains(allowed, v) {
			return badRequest("Unknown %s %q (use one of: %s).", name, v, strings.Join(allowed, ", "))
		}
		return nil
	}
	for _, e := range []error{
		check("status", ff.Status, db.ConversationStatuses), check("stage", ff.Stage, settings.Stages),
		check("owner", ff.Owner, db.ConversationOwners), check("language", ff.Language, db.Languages),
		check("escalated", ff.Escalated, []string{"yes", "no"}), check("has_quote", ff.HasQuote, []string{"yes", "no"}),
	} {
		if e != nil {
			return f, ff, e
		}
	}
	if err := checkSearch(ff.Q); err != nil {
		return f, ff, err
	}
	yes := func(s string) *bool {
		if s == "" {
			return nil
		}
		b := s == "yes"
		return &b
	}
	f.Escalated, f.HasQuote = yes(ff.Escalated), yes(ff.HasQuote)
	day := func(name, s string, end bool) (*time.Time, error) {
		if s == "" {
			return nil, nil
		}
		t, err := time.ParseInLocation("2006-01-02", s, cs.businessLocation(c))
		if err != nil {
			return nil, badRequest("The %s date must look like 2025-01-31.", name)
		}
		if end {
			t = t.AddDate(0, 0, 1) // "to" includes the whole day
		}
		return &t, nil
	}
	var err error
	if f.From, err = day("from", ff.From, false); err != nil {
		return f, ff, err
	}
	if f.To, err = day("to", ff.To, true); err != nil {
		return f, ff, err
	}
	return f, ff, nil
}

func (cs *Console) conversations(c echo.Context) error {
	f, ff, err := cs.parseConversationFilter(c)
	if err != nil {
		return err
	}
	rows, total, err := cs.Store.ListConversations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	pages := (total + pageSize - 1) / pageSize
	return cs.render(c, http.StatusOK, "conversations", "Conversations", "conversations", map[string]any{
		"Rows": rows, "Total": total, "F": ff, "Pages": pages,
		"Statuses": db.ConversationStatuses, "Stages": settings.Stages, "Owners": db.ConversationOwners,
		"Languages": db.Languages,
		"PrevQuery": pageQuery(ff, ff.Page-1), "NextQuery": pageQuery(ff, ff.Page+1),
		"HasPrev": ff.Page > 1, "HasNext": ff.Page < pages,
	})
}

// checkSearch rejects search text PostgreSQL cannot hold (NUL, invalid UTF-8) and
// over-long input before it reaches a query.
func checkSearch(q string) error {
	if len(q) > 100 {
		return badRequest("The search is limited to 100 characters.")
	}
	if !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return badRequest("The search contains characters that cannot be searched for.")
	}
	return nil
}

func pageQuery(ff filterForm, page int) template.URL {
	ff.Page = page
	q := string(ff.Query())
	if q != "" {
		q += "&"
	}
	return template.URL(q + "page=" + strconv.Itoa(page)) //nolint:gosec // encoded by url.Values
}

// fact is one captured fact for display.
type fact struct{ Key, Value string }

func factsList(raw []byte) []fact {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make([]fact, 0, len(m))
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case nil:
			continue
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out = append(out, fact{Key: k, Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// stepView is one LLM or tool call of a turn, its input and output made readable.
type stepView struct {
	db.TurnStep
	InputText, OutputText string
}

// turnView is a bot turn with its steps and where it moved the sales stage.
type turnView struct {
	db.TurnView
	Steps        []stepView
	StageChanged bool
	ToolCalls    int
}

// maxShownJSON clips a step's input or output on the page (search results can be long);
// the full text stays in turn_steps.
const maxShownJSON = 6000

func shownJSON(raw []byte) string {
	s := prettyJSON(raw)
	if s == "{}" || s == "null" {
		return ""
	}
	if len(s) > maxShownJSON {
		cut := maxShownJSON
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "\n… (clipped)"
	}
	return s
}

func prettyJSON(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

// turnViews prepares turns for the page. Tools the workflow runs itself (advance_stage,
// set_language, …) store only their result, so their input is taken from the model's call.
func turnViews(turns []db.TurnView) []turnView {
	out := make([]turnView, len(turns))
	for i, t := range turns {
		v := turnView{TurnView: t, StageChanged: t.StageAfter != "" && t.StageAfter != t.StageBefore}
		args := map[string]string{}
		for _, st := range t.Steps {
			if st.Kind != "llm" {
				continue
			}
			var o struct {
				ToolCalls []struct {
					ID        string `json:"id"`
					Arguments string `json:"arguments"`
				} `json:"tool_calls"`
			}
			if json.Unmarshal(st.Output, &o) == nil {
				for _, tc := range o.ToolCalls {
					args[tc.ID] = tc.Arguments
				}
			}
		}
		// Helper calls (facts, summary) run after the reply and are stored with a negative
		// round: show them last.
		steps := slices.Clone(t.Steps)
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].Round >= 0 && steps[j].Round < 0 })
		for _, st := range steps {
			sv := stepView{TurnStep: st, InputText: shownJSON(st.Input), OutputText: shownJSON(st.Output)}
			if st.Kind == "tool" {
				v.ToolCalls++
				if a, ok := args[st.CallID]; ok && sv.InputText == "" {
					sv.InputText = shownJSON([]byte(a))
				}
			}
			v.Steps = append(v.Steps, sv)
		}
		out[i] = v
	}
	return out
}

type threadItem struct {
	db.ThreadMessage
	// Turn is shown under the last message of the turn (its reply, or the last customer
	// message it handled when it sent none).
	Turn *turnView
}

func (cs *Console) conversation(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	d, err := cs.Store.ConversationDetail(ctx, id)
	if err != nil {
		return err
	}
	msgs, err := cs.Store.Thread(ctx, id, 1000)
	if err != nil {
		return err
	}
	turns, err := cs.Store.ConversationTurns(ctx, id, 500)
	if err != nil {
		return err
	}
	tv := turnViews(turns)
	byTurn := make(map[int64]*turnView, len(tv))
	for i := range tv {
		byTurn[tv[i].ID] = &tv[i]
	}
	items := make([]threadItem, len(msgs))
	last := map[int64]int{}
	for i, m := range msgs {
		items[i].ThreadMessage = m
		if m.TurnID > 0 {
			last[m.TurnID] = i
		}
	}
	for turnID, i := range last {
		items[i].Turn = byTurn[turnID]
	}
	escs, err := cs.Store.ListEscalationRows(ctx, db.EscalationRowFilter{ConversationID: d.ID})
	if err != nil {
		return err
	}
	ui := strings.TrimRight(cs.Config.TemporalUIURL, "/")
	ns := cs.Config.TemporalNamespace
	if ns == "" {
		ns = "default"
	}
	var temporalURL string
	if ui != "" {
		temporalURL = ui + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(d.WorkflowID)
	}
	return cs.render(c, http.StatusOK, "conversation", "Conversation", "conversations", map[string]any{
		"C": d, "Thread": items, "Turns": tv, "Facts": factsList(d.Facts), "Escalations": escs, "TemporalURL": temporalURL,
		"ActionsAvailable": cs.Conversations != nil, "Nonce": randomToken(),
	})
}

var nonceRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// conversationAction runs take over / reply / hand back / escalate / close through the
// conversation workflow and the outbound gateway (the ConversationActions seam), and
// records who did it in the audit log.
func (cs *Console) conversationAction(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := cs.Store.ConversationDetail(ctx, id); err != nil {
		return err
	}
	if cs.Conversations == nil {
		return &httpError{http.StatusNotImplemented, "Conversation actions are not available in this process."}
	}
	by := actorOf(c)
	text := strings.TrimSpace(strings.ReplaceAll(c.FormValue("text"), "\r\n", "\n"))
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return badRequest("The text contains characters that cannot be sent.")
	}
	action := c.Param("action")
	var err error
	var after map[string]any
	var ok string
	switch action {
	case "takeover":
		ok = "taken_over"
		err = cs.Conversations.TakeOver(ctx, id, by)
	case "reply":
		nonce := c.FormValue("nonce")
		switch {
		case text == "":
			return badRequest("Write a message first.")
		case utf8.RuneCountInString(text) > 4000:
			return badRequest("A WhatsApp message is limited to 4000 characters.")
		case !nonceRe.MatchString(nonce):
			return badRequest("The form is out of date. Reload the page and try again.")
		}
		ok = "replied"
		err = cs.Conversations.Reply(ctx, id, by, text, nonce)
		after = map[string]any{"nonce": nonce, "chars": utf8.RuneCountInString(text)}
	case "handback":
		if utf8.RuneCountInString(text) > 500 {
			return badRequest("The note is limited to 500 characters.")
		}
		ok = "handed_back"
		err = cs.Conversations.HandBack(ctx, id, by, text)
		after = map[string]any{"note": text}
	case "escalate":
		if text == "" {
			text = "escalated from the console"
		}
		if utf8.RuneCountInString(text) > 500 {
			return badRequest("The reason is limited to 500 characters.")
		}
		ok = "escalated"
		err = cs.Conversations.Escalate(ctx, id, by, text)
		after = map[string]any{"reason": text}
	case "close":
		if utf8.RuneCountInString(text) > 500 {
			return badRequest("The note is limited to 500 characters.")
		}
		ok = "closed"
		err = cs.Conversations.Close(ctx, id, by, text)
		after = map[string]any{"note": text}
	default:
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "conversation."+action, id), nil, after); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/conversations/"+url.PathEscape(id)+"?ok="+ok)
}
