// Package followup holds what the follow-up machinery says and stores, independent of
// Temporal: the message of each follow-up step in English and Arabic (with the WhatsApp
// template purpose and values used outside the 24-hour window), the acknowledgements of an
// escalation, and the save_feedback agent tool.
package followup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Kinds of follow-up chains (FollowUpInput.Kind).
const (
	KindQuote      = "quote"
	KindPayment    = "payment"
	KindFeedback   = "feedback"
	KindInactivity = "inactivity"
)

// Template purposes: the keys admins fill in settings.follow_ups.templates
// (purpose → language → approved WhatsApp template id). Values passed to every template:
// {{1}} customer name (or "there"/"عميلنا العزيز"), {{2}} the reference (quote or order number, may be empty).
const (
	TemplateQuote      = "quote_follow_up"
	TemplatePayment    = "payment_reminder"
	TemplateFeedback   = "feedback_request"
	TemplateInactivity = "inactivity_follow_up"
)

// Message is one follow-up step ready for the outbound gateway.
type Message struct {
	Text            string
	TemplatePurpose string
	TemplateValues  []string
}

// Step builds step (0-based) of a chain for a customer.
func Step(kind string, step int, lang, name, ref string) Message {
	ar := lang == "ar"
	who := strings.TrimSpace(name)
	greet := "Hi"
	if who != "" {
		greet += " " + who
	}
	arGreet := "مرحباً"
	if who != "" {
		arGreet += " " + who
	}
	valName := who
	if valName == "" {
		valName = "there"
		if ar {
			valName = "عميلنا العزيز"
		}
	}
	refPart := ""
	if ref != "" {
		refPart = " " + ref
	}
	m := Message{TemplateValues: []string{valName, ref}}
	switch kind {
	case KindQuote:
		m.TemplatePurpose = TemplateQuote
		switch {
		case step == 0 && ar:
			m.Text = arGreet + "، هل اطلعت على عرض السعر" + refPart + "؟ يسعدني الإجابة عن أي سؤال أو تعديل الكميات."
		case step == 0:
			m.Text = greet + ", did you have a chance to look at quotation" + refPart + "? Happy to answer any question or adjust quantities."
		case ar:
			m.Text = arGreet + "، عرض السعر" + refPart + " ما زال بانتظارك. هل تود المتابعة أو إجراء أي تعديل؟"
		default:
			m.Text = greet + ", just checking in on quotation" + refPart + ". Would you like to go ahead, or change anything?"
		}
	case KindPayment:
		m.TemplatePurpose = TemplatePayment
		if ar {
			m.Text = arGreet + "، تذكير لطيف بدفعة الطلب" + refPart + " (50٪ مقدماً) حتى نبدأ بالتجهيز والتوصيل. هل تحتاج إلى أي مساعدة؟"
		} else {
			m.Text = greet + ", a friendly reminder about the advance payment (50%) for order" + refPart + " so we can schedule delivery. Need any help with it?"
		}
	case KindFeedback:
		m.TemplatePurpose = TemplateFeedback
		if ar {
			m.Text = arGreet + "، نأمل أن يكون طلبك" + refPart + " قد وصل بحالة ممتازة. كيف تقيّم تجربتك من 1 إلى 5، وكيف كان التوصيل؟"
		} else {
			m.Text = greet + ", we hope your order" + refPart + " arrived in perfect shape. How would you rate your experience from 1 to 5, and the delivery?"
		}
	default: // inactivity
		m.TemplatePurpose = TemplateInactivity
		if ar {
			m.Text = arGreet + "، هل ما زلت تبحث عن أثاث للمكتب؟ يسعدني مساعدتك في اختيار الأنسب."
		} else {
			m.Text = greet + ", are you still looking for office furniture? I'm happy to help you pick the right pieces."
		}
	}
	return m
}

// EscalationAck is the single acknowledgement of the turn that escalates (sent by the
// conversation workflow instead of a model reply).
func EscalationAck(lang string) string {
	if lang == "ar" {
		return "شكراً لك، لقد حوّلت طلبك إلى أحد مديرينا وسيتواصل معك هنا قريباً."
	}
	return "Thank you, I've passed your request to one of our managers, who will reply here shortly."
}

// WaitingAck answers a customer who writes again while waiting for a manager (at most once
// per settings.escalation.ack_interval).
func WaitingAck(lang string) string {
	if lang == "ar" {
		return "وصلتنا رسالتك، وسيرد عليك أحد مديرينا هنا في أقرب وقت ممكن."
	}
	return "We have your message; a manager will reply here as soon as possible."
}

// SaveFeedbackToolName is the agent tool's name (DOMAIN.md: the tool names are a contract).
const SaveFeedbackToolName = "save_feedback"

// SaveFeedbackToolDescription and SaveFeedbackToolParameters define the tool for the LLM
// (OpenAI function calling: name, description, JSON-schema parameters).
const SaveFeedbackToolDescription = "Store the customer's post-delivery feedback. Call it as soon as the customer gives any " +
	"of: an overall rating (1-5), a delivery rating (1-5), whether they would recommend Treejar, a comment. " +
	"Only pass what the customer actually said; call again when they add more."

var SaveFeedbackToolParameters = json.RawMessage(`{
  "type": "object",
  "properties": {
    "overall_rating": {"type": "integer", "minimum": 1, "maximum": 5, "description": "overall experience, 1 (bad) to 5 (excellent)"},
    "delivery_rating": {"type": "integer", "minimum": 1, "maximum": 5, "description": "delivery experience, 1 to 5"},
    "would_recommend": {"type": "boolean", "description": "would the customer recommend Treejar"},
    "comment": {"type": "string", "description": "the customer's own words, verbatim"},
    "order_ref": {"type": "string", "description": "the order or quotation number the feedback is about, if known"}
  },
  "additionalProperties": false
}`)

// SaveFeedbackArgs are the tool's arguments.
type SaveFeedbackArgs struct {
	OverallRating  *int   `json:"overall_rating,omitempty"`
	DeliveryRating *int   `json:"delivery_rating,omitempty"`
	WouldRecommend *bool  `json:"would_recommend,omitempty"`
	Comment        string `json:"comment,omitempty"`
	OrderRef       string `json:"order_ref,omitempty"`
}

// ParseSaveFeedbackArgs decodes and validates the model's arguments; the error is meant to
// be returned to the model as the tool result so it can correct itself.
func ParseSaveFeedbackArgs(raw json.RawMessage) (SaveFeedbackArgs, error) {
	var a SaveFeedbackArgs
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("save_feedback arguments: %v", err)
	}
	return a, a.Validate()
}

// Validate checks ranges and that something was given.
func (a SaveFeedbackArgs) Validate() error {
	for _, r := range []struct {
		name string
		v    *int
	}{{"overall_rating", a.OverallRating}, {"delivery_rating", a.DeliveryRating}} {
		if r.v != nil && (*r.v < 1 || *r.v > 5) {
			return fmt.Errorf("save_feedback: %s must be 1..5, got %d", r.name, *r.v)
		}
	}
	if a.OverallRating == nil && a.DeliveryRating == nil && a.WouldRecommend == nil && strings.TrimSpace(a.Comment) == "" {
		return fmt.Errorf("save_feedback: nothing to save: pass at least one rating, would_recommend or a comment")
	}
	if len(a.Comment) > 4000 {
		return fmt.Errorf("save_feedback: comment is longer than 4000 bytes")
	}
	return nil
}
