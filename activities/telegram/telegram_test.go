package telegram_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/activities/telegram/telegramtest"
)

func client(fake *telegramtest.Server) *telegram.Client {
	c := telegram.New(fake.URL, fake.Token)
	c.Backoff = time.Millisecond
	return c
}

func TestSendMessageWithButtonsAndEscapedHTML(t *testing.T) {
	fake := telegramtest.New(t, "123:abc")
	c := client(fake)
	ctx := context.Background()
	text := "<b>" + telegram.EscapeHTML("Escalation: <script> & \"quotes\"") + "</b>\nbody"
	kb := &telegram.Keyboard{InlineKeyboard: [][]telegram.Button{{{Text: "Take", CallbackData: "take:1"}, {Text: "Resolve", CallbackData: "resolve:1"}}}}
	m, err := c.SendMessage(ctx, telegram.SendMessageRequest{ChatID: "-100200", Text: text, ParseMode: "HTML", ReplyMarkup: kb})
	require.NoError(t, err)
	assert.NotZero(t, m.MessageID)

	sent := fake.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "-100200", sent[0].ChatID)
	assert.Equal(t, m.MessageID, sent[0].MessageID)
	assert.Contains(t, sent[0].Text, "&lt;script&gt; &amp;")
	assert.Equal(t, "take:1", sent[0].Keyboard.InlineKeyboard[0][0].CallbackData)
	assert.Contains(t, fake.Requests()[0].Body, `"link_preview_options":{"is_disabled":true}`)

	// Unescaped HTML is what Telegram rejects; the fake rejects it the same way.
	_, err = c.SendMessage(ctx, telegram.SendMessageRequest{ChatID: "-100200", Text: "a < b & c", ParseMode: "HTML"})
	var ae *telegram.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 400, ae.Code)
	assert.False(t, ae.Retryable())
	assert.Len(t, fake.Requests(), 2, "a 400 is not retried")
}

func TestCallbackDataLimitIsCheckedBeforeSending(t *testing.T) {
	fake := telegramtest.New(t, "123:abc")
	c := client(fake)
	kb := &telegram.Keyboard{InlineKeyboard: [][]telegram.Button{{{Text: "x", CallbackData: strings.Repeat("a", 65)}}}}
	_, err := c.SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi", ReplyMarkup: kb})
	assert.ErrorIs(t, err, telegram.ErrInvalid)
	assert.Empty(t, fake.Requests())
}

func TestRateLimitIsRetriedAfterRetryAfter(t *testing.T) {
	fake := telegramtest.New(t, "123:abc")
	c := client(fake)
	fake.RateLimitNext("sendMessage", 2, 1)
	_, err := c.SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	require.NoError(t, err)
	reqs := fake.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []int{429, 429, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status})
	// Each retry waited at least retry_after (1 s) after the 429.
	assert.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), time.Second)
	assert.GreaterOrEqual(t, reqs[2].At.Sub(reqs[1].At), time.Second)
	assert.Len(t, fake.Sent(), 1)
}

func TestRetriesAreBounded(t *testing.T) {
	fake := telegramtest.New(t, "123:abc")
	c := client(fake)
	c.MaxRetries = 2
	fake.FailNext("", 10, 502, "Bad Gateway")
	_, err := c.SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	var ae *telegram.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 502, ae.Code)
	assert.True(t, ae.Retryable())
	assert.Len(t, fake.Requests(), 3, "one call and two retries")

	// A retry_after longer than the cap is returned at once for the caller's retry policy.
	fake2 := telegramtest.New(t, "123:abc")
	c2 := client(fake2)
	fake2.RateLimitNext("", 1, 3600)
	_, err = c2.SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 3600, ae.RetryAfter)
	assert.Len(t, fake2.Requests(), 1)
}

func TestErrorsNeverContainTheToken(t *testing.T) {
	c := telegram.New("http://127.0.0.1:1", "999:SECRET-TOKEN")
	c.MaxRetries = 1
	c.Backoff = time.Millisecond
	_, err := c.SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")

	fake := telegramtest.New(t, "right")
	_, err = telegram.New(fake.URL, "wrong").SendMessage(context.Background(), telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	var ae *telegram.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 401, ae.Code)
}

func TestTimeoutAndCancellation(t *testing.T) {
	fake := telegramtest.New(t, "t")
	fake.RateLimitNext("", 1, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client(fake).SendMessage(ctx, telegram.SendMessageRequest{ChatID: "1", Text: "hi"})
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestEditAnswerAndWebhook(t *testing.T) {
	fake := telegramtest.New(t, "t")
	c := client(fake)
	ctx := context.Background()
	kb := &telegram.Keyboard{InlineKeyboard: [][]telegram.Button{{{Text: "Take", CallbackData: "take:9"}}}}
	m, err := c.SendMessage(ctx, telegram.SendMessageRequest{ChatID: "5", Text: "hi", ReplyMarkup: kb})
	require.NoError(t, err)

	require.NoError(t, c.EditMessageReplyMarkup(ctx, "5", m.MessageID, nil))
	assert.Empty(t, fake.Sent()[0].Keyboard.InlineKeyboard)
	// The same edit again: "message is not modified" counts as done.
	require.NoError(t, c.EditMessageReplyMarkup(ctx, "5", m.MessageID, nil))
	require.Error(t, c.EditMessageReplyMarkup(ctx, "5", 424242, kb))

	require.NoError(t, c.AnswerCallbackQuery(ctx, "cb-1", "Taken"))
	assert.Equal(t, []telegramtest.Answer{{CallbackQueryID: "cb-1", Text: "Taken"}}, fake.Answers())

	require.NoError(t, c.SetWebhook(ctx, "https://noor.example.com/api/v1/webhook/telegram", "s3cret"))
	url, secret := fake.Webhook()
	assert.Equal(t, "https://noor.example.com/api/v1/webhook/telegram", url)
	assert.Equal(t, "s3cret", secret)
}

func TestUserName(t *testing.T) {
	assert.Equal(t, "@sara", telegram.User{ID: 1, Username: "sara", FirstName: "Sara"}.Name())
	assert.Equal(t, "Sara K", telegram.User{ID: 1, FirstName: "Sara", LastName: "K"}.Name())
	assert.Equal(t, "telegram:7", telegram.User{ID: 7}.Name())
}
