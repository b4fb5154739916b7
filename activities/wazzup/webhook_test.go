package wazzup

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/internal/demodata"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(demodata.FS, "wazzup/"+name)
	require.NoError(t, err)
	return b
}

func TestParseEverySample(t *testing.T) {
	cases := []struct {
		file                string
		test                bool
		customers, managers int
		echoes, statuses    int
		invalid             int
	}{
		{file: "test-ping.json", test: true},
		{file: "text-en-greeting.json", customers: 1},
		{file: "text-en-need.json", customers: 1},
		{file: "duplicate-delivery.json", customers: 1},
		{file: "burst-en-3.json", customers: 3},
		{file: "text-ar.json", customers: 1},
		{file: "voice-en.json", customers: 1},
		{file: "image-with-caption.json", customers: 1},
		{file: "document-floorplan.json", customers: 1},
		{file: "manager-echo.json", managers: 1},
		{file: "bot-echo.json", echoes: 1},
		{file: "statuses.json", statuses: 4},
		{file: "statuses-out-of-order.json", statuses: 4},
		{file: "mixed-envelope.json", customers: 1, statuses: 1},
		{file: "other-channel.json", customers: 1},
		{file: "bad/wrong-types.json", invalid: 1},
		{file: "bad/missing-chatid.json", invalid: 1},
		{file: "bad/empty-object.json"},
		{file: "bad/huge-text.json", customers: 1},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			env, err := ParseWebhook(sample(t, tc.file))
			require.NoError(t, err)
			assert.Equal(t, tc.test, env.Test)
			count := map[Route]int{}
			for _, m := range env.Messages {
				count[m.Route()]++
			}
			assert.Equal(t, tc.customers, count[RouteCustomer], "customers")
			assert.Equal(t, tc.managers, count[RouteManager], "managers")
			assert.Equal(t, tc.echoes, count[RouteEcho], "echoes")
			assert.Equal(t, tc.statuses, len(env.Statuses), "statuses")
			assert.Equal(t, tc.invalid, len(env.Invalid), "invalid: %+v", env.Invalid)
		})
	}
}

func TestManagerEchoWinsOverStatusShape(t *testing.T) {
	env, err := ParseWebhook(sample(t, "manager-echo.json"))
	require.NoError(t, err)
	require.Len(t, env.Messages, 1)
	m := env.Messages[0]
	assert.Equal(t, "sent", m.Status, "the sample is status-shaped")
	assert.Equal(t, RouteManager, m.Route(), "authorType manager must win: the bot goes silent")
	assert.Empty(t, env.Statuses)
}

func TestNotJSONIsAnError(t *testing.T) {
	_, err := ParseWebhook(sample(t, "bad/not-json.txt"))
	assert.ErrorIs(t, err, ErrNotObject)
	_, err = ParseWebhook([]byte(`[1,2,3]`))
	assert.ErrorIs(t, err, ErrNotObject)
}

func TestOneBadElementDoesNotLoseTheGoodOnes(t *testing.T) {
	body := `{"messages":[{"messageId":"a","chatId":"971500000001","channelId":"c","text":"hello"},
		{"messageId":42,"chatId":"971500000002","text":"bad id"},
		{"messageId":"b","chatId":"+971 50 000 0003","channelId":"c","type":"text","text":"second","unknownKey":{"x":1}}],
		"statuses":[{"messageId":"z"},{"messageId":"y","status":"READ","dateTime":"2026-09-14T06:10:21.000"}]}`
	env, err := ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, env.Messages, 2)
	assert.Equal(t, "971500000003", env.Messages[1].ChatID, "chat ids are normalised to digits")
	require.Len(t, env.Statuses, 1)
	assert.Equal(t, "read", env.Statuses[0].Status)
	assert.Equal(t, 2026, env.Statuses[0].At.Year())
	assert.Len(t, env.Invalid, 2)
}

func TestParseTime(t *testing.T) {
	a := ParseTime("2026-03-13T11:07:27.000")
	b := ParseTime("2026-03-13T11:07:27.000Z")
	assert.True(t, a.Equal(b))
	assert.True(t, ParseTime("yesterday").IsZero())
	assert.True(t, strings.HasSuffix(a.Location().String(), "UTC"))
}
