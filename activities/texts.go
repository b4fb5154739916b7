package activities

import "github.com/treejar/noor/activities/followup"

// Fixed messages the product sends without the model, in both languages. They are short
// on purpose: each stands in for a reply the customer is waiting for.
var fixedTexts = map[string]map[string]string{
	"apology": {
		"en": "Sorry, I can't answer properly right now. A colleague from Treejar will reply to you here shortly.",
		"ar": "عذراً، لا أستطيع الرد بشكل صحيح الآن. سيرد عليك أحد زملائي من تري جار هنا قريباً.",
	},
	"guard_fallback": {
		"en": "Thank you for the details. I'd rather have a colleague confirm the exact figures for you, so a Treejar manager will reply here shortly.",
		"ar": "شكراً على التفاصيل. أفضّل أن يؤكد لك أحد زملائي الأرقام الدقيقة، لذلك سيرد عليك أحد مدراء تري جار هنا قريباً.",
	},
	"crm_unavailable": {
		"en": "Sorry, I can't reach our order system right now, so I can't complete this here. A Treejar colleague will continue with you in this chat shortly.",
		"ar": "عذراً، لا أستطيع الوصول إلى نظام الطلبات لدينا الآن، لذلك لا يمكنني إكمال طلبك هنا. سيتابع معك أحد زملائي من تري جار في هذه المحادثة قريباً.",
	},
	"voice_fallback": {
		"en": "Sorry, I couldn't listen to your voice message. Could you please type it instead?",
		"ar": "عذراً، لم أتمكن من الاستماع إلى رسالتك الصوتية. هل يمكنك كتابتها من فضلك؟",
	},
}

// FixedText returns a fixed message in lang (English when the language is unknown).
func FixedText(kind, lang string) string {
	if kind == "escalation_ack" {
		return followup.EscalationAck(lang)
	}
	t := fixedTexts[kind]
	if lang != "ar" {
		lang = "en"
	}
	return t[lang]
}
