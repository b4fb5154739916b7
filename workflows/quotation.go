package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/retrieval"
)

// The sale inside the conversation workflow: who the customer is (once, on the first
// turn), and the quotation — summary and consent first, then the draft sale order, the
// PDF, the send, the CRM deal and the follow-up chain. The heavy work is in activities
// (activities/crm.go); every step is idempotent, so a crash or a retry repeats nothing.

var crmActs *activities.CRM

// QuoteState is the chat's current quotation version.
type QuoteState struct {
	ID      int64        `json:"id"`
	Ref     string       `json:"ref"`
	Version int          `json:"version"`
	Items   []quote.Item `json:"items"`
	// AskedInTurn is the turn that sent the summary: consent counts only in a later turn.
	AskedInTurn int    `json:"asked_in_turn"`
	Status      string `json:"status"` // awaiting_consent | confirmed | sent | failed
	Number      string `json:"number,omitempty"`
}

// crmOpts: CRM/inventory calls retry a few times (429/5xx are also retried inside the
// client); terminal auth failures and blocked quotes never.
func crmOpts(ctx workflow.Context, timeout, heartbeat time.Duration, attempts int32, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    heartbeat,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: attempts, NonRetryableErrorTypes: activities.NonRetryableCRMErrors},
		Summary: summary,
	})
}

// identifyCustomer runs once per chat (the result is carried across continue-as-new). A
// failure does not stop the turn: answering comes first; the next turn tries again.
func (w *conversation) identifyCustomer(ctx workflow.Context) {
	var id activities.CustomerIdentity
	// On the hot path of the first reply: one bounded attempt; a slow CRM is tried again next turn.
	err := workflow.ExecuteActivity(crmOpts(ctx, 12*time.Second, 0, 1, "identify the customer in the CRM"), crmActs.IdentifyCustomer,
		activities.IdentifyInput{ConversationID: w.st.ConversationID, Name: w.st.Facts.Name}).Get(ctx, &id)
	if err != nil {
		workflow.GetLogger(ctx).Warn("customer identification failed", "conversation_id", w.st.ConversationID, "error", err)
		return
	}
	w.st.Facts.CustomerContext = id.Context
	id.Context = "" // in the facts already
	w.st.Customer = &id
}

// createQuotation handles a create_quotation call. It returns the tool result for the
// model and whether the turn is over (a message went out, or a manager took over).
func (w *conversation) createQuotation(ctx workflow.Context, turnID int64, seq int, call activities.ToolCallRef) (string, bool, error) {
	var args struct {
		Items     []quote.Item `json:"items"`
		Confirmed bool         `json:"confirmed"`
	}
	if err := json.Unmarshal(call.Args, &args); err != nil {
		return `{"error":"invalid arguments: give items as [{\"sku\":…,\"qty\":…}]"}`, false, nil
	}
	q := w.st.Quote
	if args.Confirmed && q != nil && q.Status == "awaiting_consent" && q.AskedInTurn < seq &&
		(len(args.Items) == 0 || sameItems(args.Items, q.Items)) {
		return "", true, w.issueQuote(ctx, turnID)
	}
	items := args.Items
	if len(items) == 0 && q != nil {
		items = q.Items
	}
	if len(items) == 0 {
		for _, it := range w.st.Facts.Items {
			items = append(items, quote.Item{SKU: it.SKU, Qty: it.Qty})
		}
	}
	version := w.st.QuoteVersion + 1
	var prep activities.PrepareQuoteResult
	err := workflow.ExecuteActivity(crmOpts(ctx, time.Minute, 0, 3, fmt.Sprintf("prepare quotation v%d", version)), crmActs.PrepareQuote,
		activities.PrepareQuoteInput{ConversationID: w.st.ConversationID, Version: version, Items: items, Facts: w.st.Facts,
			Language: w.lang()}).Get(ctx, &prep)
	switch {
	case err != nil && temporal.IsCanceledError(err):
		return "", true, err
	case activities.IsCRMAuthFailure(err):
		w.crmUnavailable(ctx, turnID, seq, rootMessage(err))
		return "", true, nil
	case err != nil:
		w.escalate(ctx, "quote_blocked", "the quotation could not be prepared: "+rootMessage(err), "rule", turnID, true)
		return "", true, nil
	}
	switch prep.Status {
	case "missing":
		return prep.ToolContent, false, nil
	case "blocked":
		w.escalate(ctx, "quote_blocked", prep.Reason, "rule", turnID, true)
		return "", true, nil
	}
	w.st.QuoteVersion = version
	w.st.Quote = &QuoteState{ID: prep.QuoteID, Ref: prep.Ref, Version: version, Items: prep.Items, AskedInTurn: seq,
		Status: "awaiting_consent"}
	if stageBefore(w.st.Stage, "company_details") {
		w.st.Stage = "company_details"
	}
	if !w.botMayReply() {
		w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "skipped", TurnNote: "a human took over before the send"})
		return "", true, nil
	}
	// The summary is written by code, not the model: lines and totals are exactly the quote's.
	var sent activities.SendResult
	err = workflow.ExecuteActivity(sendOpts(ctx, "send quotation summary "+prep.Ref), msgActs.SendMessage, activities.SendInput{
		ConversationID: w.st.ConversationID, IdempotencyKey: "quote-confirm:" + w.st.ConversationID + ":" + prep.Ref,
		Purpose: "reply", Text: prep.Confirmation, RespectOwner: true, Language: w.lang(), TurnID: turnID,
	}).Get(ctx, &sent)
	return "", true, w.closeTurnAfterSend(ctx, turnID, sent, err, "quotation summary "+prep.Ref+" sent for confirmation")
}

// issueQuote runs after the customer's yes: sale order, PDF, send, deal, follow-ups.
func (w *conversation) issueQuote(ctx workflow.Context, turnID int64) error {
	q := w.st.Quote
	q.Status = "confirmed"
	w.st.Stage = "quoting" // the stage moves on the customer's consent
	w.persist(ctx)
	var so activities.SaleOrderResult
	err := workflow.ExecuteActivity(crmOpts(ctx, 3*time.Minute, 10*time.Second, 6, "create the draft sale order for "+q.Ref),
		crmActs.PlaceSaleOrder, activities.QuoteInput{QuoteID: q.ID}).Get(ctx, &so)
	if err != nil {
		return w.quoteFailed(ctx, turnID, err)
	}
	q.Number = so.Number
	var doc activities.QuoteDocument
	err = workflow.ExecuteActivity(crmOpts(ctx, 2*time.Minute, 15*time.Second, 4, "render the quotation PDF "+so.Number),
		crmActs.RenderQuotePDF, activities.QuoteInput{QuoteID: q.ID, Language: w.lang()}).Get(ctx, &doc)
	if err != nil {
		return w.quoteFailed(ctx, turnID, err)
	}
	if !w.botMayReply() {
		w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "skipped", TurnNote: "a human took over before the quotation was sent"})
		return nil
	}
	var sent activities.SendResult
	err = workflow.ExecuteActivity(sendOpts(ctx, "send quotation "+so.Number), msgActs.SendMessage, activities.SendInput{
		ConversationID: w.st.ConversationID, IdempotencyKey: "quote:" + w.st.ConversationID + ":" + q.Ref, Purpose: "reply",
		DocumentURL: doc.URL, Caption: doc.Caption, RespectOwner: true, Language: w.lang(), TurnID: turnID,
	}).Get(ctx, &sent)
	if err != nil || sent.Status != "sent" {
		return w.closeTurnAfterSend(ctx, turnID, sent, err, "")
	}
	q.Status = "sent"
	var fin activities.FinishQuoteResult
	if err := workflow.ExecuteActivity(crmOpts(ctx, time.Minute, 0, 4, "move the CRM deal for "+so.Number), crmActs.FinishQuote,
		activities.FinishQuoteInput{QuoteID: q.ID, Stage: "quoting"}).Get(ctx, &fin); err != nil {
		// The customer has the quotation; a manager fixes the CRM.
		w.st.NeedsHuman, w.st.NeedsHumanReason = true, "quotation "+so.Number+" was sent but the CRM deal was not updated: "+rootMessage(err)
	}
	w.startFollowUp(ctx, "quote", so.Number, workflow.Now(ctx))
	return w.closeTurnAfterSend(ctx, turnID, sent, nil, "quotation "+so.Number+" sent")
}

// closeTurnAfterSend records the outcome of the turn's one message.
func (w *conversation) closeTurnAfterSend(ctx workflow.Context, turnID int64, sent activities.SendResult, err error, note string) error {
	if err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		w.st.NeedsHuman, w.st.NeedsHumanReason = true, "the reply could not be delivered: "+rootMessage(err)
		w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "failed", TurnNote: w.st.NeedsHumanReason})
		return nil
	}
	status := "replied"
	if sent.Status != "sent" {
		status, note = "skipped", sent.Reason
	} else {
		w.st.FailedTurns = 0
	}
	w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: status, TurnNote: note, ReplyMessageID: sent.MessageID})
	return nil
}

// quoteFailed hands a quotation that cannot be completed to a manager.
func (w *conversation) quoteFailed(ctx workflow.Context, turnID int64, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	w.st.Quote.Status = "failed"
	if activities.IsCRMAuthFailure(err) {
		w.crmUnavailable(ctx, turnID, w.st.TurnSeq, rootMessage(err))
		return nil
	}
	w.escalate(ctx, "quote_blocked", "quotation "+w.st.Quote.Ref+" could not be completed: "+rootMessage(err), "rule", turnID, true)
	return nil
}

// crmUnavailable: Zoho rejected our credentials. The customer gets one graceful message,
// the chat goes to a manager (escalation kind crm_auth), and nothing retries in a loop.
func (w *conversation) crmUnavailable(ctx workflow.Context, turnID int64, seq int, reason string) {
	var sent activities.SendResult
	_ = workflow.ExecuteActivity(sendOpts(ctx, "send CRM-unavailable message"), msgActs.SendMessage, activities.SendInput{
		ConversationID: w.st.ConversationID, IdempotencyKey: fmt.Sprintf("crm-unavailable:%s:%d", w.st.ConversationID, seq),
		Purpose: "reply", Text: activities.FixedText("crm_unavailable", w.lang()), RespectOwner: true, Language: w.lang(),
		TurnID: turnID}).Get(ctx, &sent)
	w.escalate(ctx, "crm_auth", "Zoho authentication failed: "+reason, "rule", turnID, false)
}

// sameItems compares two item lists by SKU (normalised: case, separators, look-alike
// letters) and quantity, in any order.
func sameItems(a, b []quote.Item) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if retrieval.NormalizeSKU(x.SKU) == retrieval.NormalizeSKU(y.SKU) && x.Qty == y.Qty {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
