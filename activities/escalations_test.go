package activities_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/followup"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/testenv"
)

func build(t *testing.T) (*activities.Set, *db.Store) {
	store := testenv.DB(t)
	set, err := activities.Build(activities.Deps{Config: config.Config{PublicBaseURL: "http://localhost:8080"}, Store: store, Log: testenv.Logger(t)})
	require.NoError(t, err)
	return set, store
}

func conversation(t *testing.T, store *db.Store) string {
	var id string
	require.NoError(t, store.Pool.QueryRow(context.Background(),
		`INSERT INTO conversations (channel_id, chat_id, language) VALUES ('c', '971500000001', 'en') RETURNING id::text`).Scan(&id))
	return id
}

func message(t *testing.T, store *db.Store, conv, kind, text, media string) int64 {
	var id int64
	require.NoError(t, store.Pool.QueryRow(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind, text, media_url)
		VALUES ($1, 'in', 'customer', $2, $3, $4) RETURNING id`, conv, kind, text, media).Scan(&id))
	return id
}

func price(v float64) *float64 { return &v }

func TestDetectEscalationEstimatesOrderValueFromTheCatalog(t *testing.T) {
	set, store := build(t)
	ctx := context.Background()
	for _, p := range []db.ProductInput{
		{Slug: "ch-190", SKU: "CH 190", Name: "Operative Chair CH 190 Black", Category: "Operative Chair", Price: price(420)},
		{Slug: "caf-c10", SKU: "CAF-C10", Name: "Cafeteria Chair CC 10", Category: "Cafeteria Furniture", Price: price(95)},
		{Slug: "novo-1200", SKU: "NOVO 1200", Name: "Single Desk NOVO 1200", Category: "Single Desks", Price: price(1350)},
	} {
		_, _, err := store.UpsertProduct(ctx, p, time.Now())
		require.NoError(t, err)
	}
	conv := conversation(t, store)
	e := set.Escalations

	// 200 chairs × the cheapest chair (95 AED) = 19 000 AED > 10 000: surely above the threshold.
	r, err := e.DetectEscalation(ctx, activities.DetectEscalationInput{ConversationID: conv,
		MessageIDs: []int64{message(t, store, conv, "text", "we confirm, deliver 200 chairs to Dubai Marina next week", "")}})
	require.NoError(t, err)
	assert.True(t, r.Escalate)
	assert.Equal(t, "large_order", r.Kind)
	assert.Contains(t, r.Reason, "19000")

	// 100 chairs × 95 = 9 500: below; the bot quotes.
	r, err = e.DetectEscalation(ctx, activities.DetectEscalationInput{ConversationID: conv,
		Text: "we confirm, deliver 100 chairs to Dubai Marina next week"})
	require.NoError(t, err)
	assert.False(t, r.Escalate)

	// A product question is a sales question.
	r, err = e.DetectEscalation(ctx, activities.DetectEscalationInput{ConversationID: conv,
		MessageIDs: []int64{message(t, store, conv, "text", "5 x CH 190", "")}})
	require.NoError(t, err)
	assert.False(t, r.Escalate)

	// A floor plan sent as a document, named only by its file.
	r, err = e.DetectEscalation(ctx, activities.DetectEscalationInput{ConversationID: conv,
		MessageIDs: []int64{message(t, store, conv, "document", "", "https://cdn.example.com/files/Level-3-floor-plan.pdf")}})
	require.NoError(t, err)
	assert.True(t, r.Escalate)
	assert.Equal(t, "drawings", r.Kind)
}

func TestClassifyCustomerMessageRecordsOptOut(t *testing.T) {
	set, store := build(t)
	ctx := context.Background()
	conv := conversation(t, store)
	now := time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)

	c, err := set.FollowUps.ClassifyCustomerMessage(ctx, activities.ClassifyCustomerMessageInput{MessageID: message(t, store, conv, "text", "out of office until 3 October", ""), At: now})
	require.NoError(t, err)
	assert.Equal(t, "auto_reply", c.Kind)
	dubai, _ := time.LoadLocation("Asia/Dubai")
	assert.True(t, time.Date(2026, 10, 3, 0, 0, 0, 0, dubai).Equal(c.Until))

	c, err = set.FollowUps.ClassifyCustomerMessage(ctx, activities.ClassifyCustomerMessageInput{MessageID: message(t, store, conv, "text", "إلغاء الاشتراك", ""), At: now})
	require.NoError(t, err)
	assert.Equal(t, "opt_out", c.Kind)
	b, err := store.ConversationBrief(ctx, conv, 0)
	require.NoError(t, err)
	assert.True(t, b.OptedOut, "the opt-out is stored at once")

	c, err = set.FollowUps.ClassifyCustomerMessage(ctx, activities.ClassifyCustomerMessageInput{MessageID: 987654321, At: now})
	require.NoError(t, err)
	assert.Equal(t, "reply", c.Kind, "an unknown message still counts as a reply")
}

func TestSaveFeedbackMergesAnswers(t *testing.T) {
	set, store := build(t)
	ctx := context.Background()
	conv := conversation(t, store)
	four, five := 4, 5
	yes := true
	args, err := followup.ParseSaveFeedbackArgs(json.RawMessage(`{"overall_rating": 4, "order_ref": "SO-00042"}`))
	require.NoError(t, err)
	r, err := set.FollowUps.SaveFeedback(ctx, activities.SaveFeedbackInput{ConversationID: conv, Args: args, Language: "en"})
	require.NoError(t, err)
	assert.Equal(t, &four, r.Overall)
	assert.Nil(t, r.Delivery)

	r2, err := set.FollowUps.SaveFeedback(ctx, activities.SaveFeedbackInput{ConversationID: conv,
		Args: followup.SaveFeedbackArgs{OrderRef: "SO-00042", DeliveryRating: &five, WouldRecommend: &yes, Comment: "fast installation"}})
	require.NoError(t, err)
	assert.Equal(t, r.FeedbackID, r2.FeedbackID, "one row per order")
	assert.Equal(t, &four, r2.Overall, "earlier answers are kept")
	assert.Equal(t, &five, r2.Delivery)
	assert.Equal(t, &yes, r2.WouldRecommend)
	assert.Equal(t, "fast installation", r2.Comment)

	bad := 7
	_, err = set.FollowUps.SaveFeedback(ctx, activities.SaveFeedbackInput{ConversationID: conv, Args: followup.SaveFeedbackArgs{OverallRating: &bad}})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Error(), "1..5")
}

func TestOpenEscalationIsIdempotentAndRejectsUnknownConversations(t *testing.T) {
	set, store := build(t)
	ctx := context.Background()
	conv := conversation(t, store)
	in := activities.OpenEscalationInput{ConversationID: conv, Episode: 1, Reason: "r", Kind: "complaint", TriggeredBy: "rule", WorkflowID: "escalation-x-1", At: time.Now()}
	a, err := set.Escalations.OpenEscalation(ctx, in)
	require.NoError(t, err)
	b, err := set.Escalations.OpenEscalation(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, a.EscalationID, b.EscalationID)
	assert.Equal(t, "pending", b.Status)
	assert.Equal(t, "en", b.Language)

	in.ConversationID = "00000000-0000-0000-0000-000000000000"
	_, err = set.Escalations.OpenEscalation(ctx, in)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.Equal(t, "ConversationNotFound", app.Type())
	assert.True(t, app.NonRetryable())
}

func TestParseCallbackData(t *testing.T) {
	for data, want := range map[string]struct {
		action string
		id     int64
		ok     bool
	}{
		"take:12": {"take", 12, true}, "resolve:9": {"resolve", 9, true}, "take:": {}, "take:-1": {}, "delete:1": {}, "": {}, "take:1x": {},
	} {
		a, id, ok := activities.ParseCallbackData(data)
		assert.Equal(t, want.ok, ok, data)
		assert.Equal(t, want.action, a, data)
		assert.Equal(t, want.id, id, data)
	}
}
