package outbound_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/internal/settings"
)

func TestIsOptOut(t *testing.T) {
	kw := settings.Defaults().FollowUps.OptOutKeywords
	yes := []string{
		"STOP", "stop", "Stop.", "STOP please", "please stop", "unsubscribe", "Unsubscribe me",
		"stop sending me messages", "Please stop messaging me", "don't contact me again", "do not text me",
		"remove my number from your list", "opt out", "no more messages please",
		"توقف", "إيقاف", "الغاء الاشتراك", "إلغاء الاشتراك", "لا ترسلوا لي رسائل", "توقف من فضلك",
		"توقفوا عن إرسال الرسائل",
	}
	no := []string{
		"", "Where is the bus stop near your showroom?", "I can't stop thinking about that chair",
		"stop by the showroom tomorrow?", "non-stop delivery?", "please send the quote",
		"أريد كرسي", "ما هو سعر المكتب", "don't send the quote yet",
	}
	for _, s := range yes {
		assert.True(t, outbound.IsOptOut(s, kw), s)
	}
	for _, s := range no {
		assert.False(t, outbound.IsOptOut(s, kw), s)
	}
	// Keywords come from settings: an admin-added keyword works, a removed one does not.
	assert.True(t, outbound.IsOptOut("BASTA", []string{"basta"}))
	assert.False(t, outbound.IsOptOut("توقف", []string{"stop"}))
}

func TestIsRefusal(t *testing.T) {
	yes := []string{
		"Not interested", "we are not interested anymore, thanks", "no thanks", "No thank you.",
		"cancel", "Please cancel the order", "cancel it", "I want to cancel the quotation",
		"we went with another supplier", "We bought them elsewhere", "found a cheaper offer",
		"we decided not to proceed", "changed my mind", "don't need it anymore",
		"غير مهتم", "لسنا مهتمين شكرا", "لا شكرا", "الغاء", "أرجو إلغاء الطلب", "اشترينا من مكان آخر",
	}
	no := []string{
		"", "can I cancel one item and add a chair instead?", "Can I cancel?", "how do I cancel an order?",
		"what is your cancellation policy", "please change the quantity to 10", "send me the quote",
		"no, I meant the black one", "هل يمكن إلغاء قطعة واحدة؟", "interested in 5 chairs", "no",
	}
	for _, s := range yes {
		assert.True(t, outbound.IsRefusal(s), s)
	}
	for _, s := range no {
		assert.False(t, outbound.IsRefusal(s), s)
	}
}

func TestDetectAutoReply(t *testing.T) {
	// Now: Wednesday 30 Sep 2026 in Dubai.
	now := time.Date(2026, 9, 30, 15, 0, 0, 0, dubai)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, dubai) }
	cases := []struct {
		text  string
		auto  bool
		until time.Time
	}{
		{"I am out of office until 3 October", true, day(2026, 10, 3)},
		{"Out of the office until October 3rd. Limited access to email.", true, day(2026, 10, 3)},
		{"Auto-reply: I'm on annual leave until the 3rd of October 2026", true, day(2026, 10, 3)},
		{"On vacation from 1 October to 12 October, will reply upon my return", true, day(2026, 10, 12)},
		{"Out of office till 05/10/2026", true, day(2026, 10, 5)},
		{"OOO until 5.10", true, day(2026, 10, 5)},
		{"Automatic reply: away until 2026-10-07", true, day(2026, 10, 7)},
		{"I'm on holiday until 5 January", true, day(2027, 1, 5)}, // January has passed: next year
		{"I'm away from the office, back on Monday", true, day(2026, 10, 5)},
		{"Out of office. I will get back to you when I return.", true, time.Time{}},
		{"out of office until 1 September 2026", true, time.Time{}}, // a stale date is no date
		{"أنا خارج المكتب حتى ٣ أكتوبر", true, day(2026, 10, 3)},
		{"رد آلي: في إجازة حتى 12 تشرين الأول", true, day(2026, 10, 12)},
		{"في إجازة حتى يوم الأحد", true, day(2026, 10, 4)},
		{"رد تلقائي: سأعود قريبا", true, time.Time{}},
		{"Can you deliver on 3 October?", false, time.Time{}},
		{"Thanks, I will check with my office", false, time.Time{}},
		{"عندي 3 ابواب في المكتب", false, time.Time{}},
	}
	for _, c := range cases {
		got := outbound.DetectAutoReply(c.text, now, dubai)
		assert.Equal(t, c.auto, got.Auto, c.text)
		assert.True(t, c.until.Equal(got.Until), "%s: want %s, got %s", c.text, c.until, got.Until)
	}
}

func TestClassifyReplyOrder(t *testing.T) {
	now := time.Date(2026, 9, 30, 15, 0, 0, 0, dubai)
	kw := settings.Defaults().FollowUps.OptOutKeywords
	assert.Equal(t, "opt_out", outbound.ClassifyReply("STOP", now, dubai, kw).Kind)
	// An auto-reply that also says "not interested in sales calls" is still an auto-reply.
	assert.Equal(t, "auto_reply", outbound.ClassifyReply("Out of office until 3 October, not interested in cold calls", now, dubai, kw).Kind)
	assert.Equal(t, "refusal", outbound.ClassifyReply("not interested", now, dubai, kw).Kind)
	assert.Equal(t, "reply", outbound.ClassifyReply("what about delivery to Sharjah?", now, dubai, kw).Kind)
	r := outbound.ClassifyReply("out of office until 3 October", now, dubai, kw)
	assert.Equal(t, time.Date(2026, 10, 3, 0, 0, 0, 0, dubai), r.Until)
}
