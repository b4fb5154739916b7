// Package escalation decides, in code, when a conversation must go to a human manager
// (the hard triggers of DOMAIN.md plus the soft triggers an admin switched on), and
// formats what managers see. Production lesson: product, bulk and price questions are
// sales questions and must be answered by the bot, so the rules are deliberately narrow.
package escalation

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/internal/textnorm"
)

// Trigger kinds (EscalationInput.Kind). Soft triggers are "soft:<name>" with a name from
// settings.SoftTriggerNames.
const (
	KindHumanRequest     = "human_request"
	KindComplaint        = "complaint"
	KindReturn           = "return"
	KindLegal            = "legal"
	KindAggression       = "aggression"
	KindNonStandardTerms = "non_standard_terms"
	KindLargeOrder       = "large_order"
	KindDrawings         = "drawings"
	KindBotFailed        = "bot_failed"
)

// Input is one customer turn (the merged burst) and what the caller knows about it.
type Input struct {
	Text string
	// MessageKinds of the turn's messages: text, image, document, audio, …
	MessageKinds []string
	// MediaNames: file names or captions of media in the turn.
	MediaNames []string
	// KnownOrderValueAED: the value of the cart/quote under discussion, if known.
	KnownOrderValueAED float64
	// UnitPriceAED: price of the product under discussion (or the lowest catalog price of
	// the product type named), used to estimate "N chairs" when no order value is known.
	UnitPriceAED float64
	// FailedTurns: consecutive turns the bot failed to understand (counting this one).
	FailedTurns int
}

// Trigger says why a turn escalates.
type Trigger struct {
	Kind   string
	Reason string // short English reason for managers
	Hard   bool
}

// Order is what ParseOrder found in a message.
type Order struct {
	Intent    bool   // the customer confirms / wants to proceed
	Quantity  int    // the largest quantity of goods named (not model numbers)
	Logistics bool   // a delivery detail: place, date, address, installation
	Noun      string // the goods named after the quantity ("chairs"), "" for units like "pcs"
}

// Ready reports an order ready to proceed: intent + a quantity + a logistics detail
// (LESSONS row 13: "5 x CH 190" alone is a sales question, not an order).
func (o Order) Ready() bool { return o.Intent && o.Quantity > 0 && o.Logistics }

// Detect returns the first trigger that applies, hard triggers first. ok is false when
// the bot should simply answer.
func Detect(in Input, s settings.Escalation) (Trigger, bool) {
	n := textnorm.ForMatching(in.Text)
	switch {
	case humanRequest(n):
		return Trigger{KindHumanRequest, "customer asked for a human", true}, true
	case legal(n):
		return Trigger{KindLegal, "legal threat or authority mentioned", true}, true
	case aggression(n):
		return Trigger{KindAggression, "aggressive or abusive message", true}, true
	case returnClaim(n):
		return Trigger{KindReturn, "return, refund or claim", true}, true
	case complaint(n):
		return Trigger{KindComplaint, "complaint or negative experience", true}, true
	case nonStandardTerms(n):
		return Trigger{KindNonStandardTerms, "non-standard terms requested (special discount, deferred payment or customisation)", true}, true
	}
	if o := ParseOrder(in.Text); o.Ready() {
		value := in.KnownOrderValueAED
		if value <= 0 && in.UnitPriceAED > 0 {
			value = float64(o.Quantity) * in.UnitPriceAED
		}
		if value > s.OrderThresholdAED {
			return Trigger{KindLargeOrder, "order of about " + strconv.FormatFloat(value, 'f', 0, 64) +
				" AED ready to proceed (threshold " + strconv.FormatFloat(s.OrderThresholdAED, 'f', 0, 64) + " AED)", true}, true
		}
	}
	if drawings(n, in) {
		return Trigger{KindDrawings, "customer sent drawings or a floor plan", true}, true
	}
	if in.FailedTurns >= 2 && s.SoftTriggers["failed_twice"] {
		return Trigger{KindBotFailed, "the bot failed to understand twice in a row", false}, true
	}
	for _, st := range softRules {
		if s.SoftTriggers[st.name] && st.match(n) {
			return Trigger{"soft:" + st.name, st.reason, false}, true
		}
	}
	return Trigger{}, false
}

var humanRe = regexp.MustCompile(`\b(talk|speak|chat|connect me|put me through|transfer me|let me talk|let me speak)( (to|with))? ` +
	`(a |an |the |your |some |one of your )?(real |actual |live )?(human|person|people|someone|somebody|agent|representative|rep|operator|` +
	`staff|employee|sales ?(person|man|rep|team|manager)|manager|supervisor|consultant|customer service)\b|` +
	`\b(human|real person|live agent|operator|representative) please\b|\b(i|we) (want|need|would like|prefer) (a |an |to talk to a |to speak to a |to speak with a |to talk with a )?(human|real person|live agent|representative)\b|` +
	`\bcan (i|we) (talk|speak) to (someone|somebody|a human|a person|a manager)\b|\bno more bot\b`)

var humanArabic = []string{
	"اريد التحدث مع شخص", "اريد التحدث مع موظف", "اريد التحدث مع مدير", "اريد التكلم مع", "ابغى اكلم",
	"ابي اكلم", "ابغي اكلم", "اكلم موظف", "اكلم شخص", "اكلم مدير", "اكلم انسان", "شخص حقيقي", "انسان حقيقي",
	"موظف حقيقي", "خدمه العملاء", "حولني", "وصلني بموظف", "التحدث مع انسان", "التحدث مع موظف", "التحدث مع مدير",
	"التحدث الي موظف", "التواصل مع موظف", "التواصل مع مدير", "اريد موظف", "اريد مدير",
}

func humanRequest(n string) bool { return humanRe.MatchString(n) || textnorm.HasAny(n, humanArabic...) }

var legalRe = regexp.MustCompile(`\b(lawyer|lawyers|attorney|legal action|legal notice|sue|suing|court|police|consumer protection|dubai economy|ded complaint|report you)\b`)

func legal(n string) bool {
	return legalRe.MatchString(n) || textnorm.HasAny(n, "محامي", "محاميي", "قضيه", "المحكمه", "محكمه", "الشرطه", "حمايه المستهلك", "بلاغ")
}

var aggressionRe = regexp.MustCompile(`\b(idiot|idiots|stupid|moron|useless bot|shut up|fuck|fucking|f\*+k|bullshit|damn you|go to hell|scam|scammers|fraud|cheaters|liars)\b`)

func aggression(n string) bool {
	return aggressionRe.MatchString(n) || textnorm.HasAny(n, "غبي", "حرامي", "حراميه", "نصاب", "نصابين", "احتيال", "كذابين", "اخرس", "تفو")
}

var returnRe = regexp.MustCompile(`\b(refund|money back|chargeback|warranty claim|claim (for|on) (the|a|my)|` +
	`(return|exchange|replace) (the|my|this|these|it|them|our|all|\d+)|want to (return|exchange)|` +
	`(arrived|came|delivered|is|was|are|were) (broken|damaged|defective|scratched|missing parts|wrong)|` +
	`(broken|damaged|defective|wrong) (item|items|chair|chairs|desk|desks|product|products|delivery|order))\b`)

// returnClaim: a return, refund, exchange or damage claim. A question about the policy
// ("what is your return policy?") is a knowledge question, not a claim.
var (
	policyRe = regexp.MustCompile(`\b(return|refund|exchange|warranty|cancellation) polic(y|ies)\b`)
	damageRe = regexp.MustCompile(`\b(broken|damaged|defective)\b`)
)

func returnClaim(n string) bool {
	if policyRe.MatchString(n) && !damageRe.MatchString(n) {
		return false
	}
	return returnRe.MatchString(n) || textnorm.HasAny(n, "استرجاع", "استرداد", "ارجاع", "ارجع", "استبدال", "مكسور", "تالف", "معيوب", "خربان")
}

var complaintRe = regexp.MustCompile(`\b(complaint|complain|complaining|terrible|horrible|awful|worst|unacceptable|disappointed|` +
	`disappointing|very bad service|bad service|poor service|never again|waste of (time|money)|ridiculous|` +
	`still (not|no) (delivered|received|arrived)|(late|delayed) delivery|where is my order)\b`)

func complaint(n string) bool {
	return complaintRe.MatchString(n) || textnorm.HasAny(n, "شكوي", "اشتكي", "سيء", "سيئه", "زعلان", "غير مقبول", "خدمه سيئه", "تاخير", "متاخر", "محبط")
}

var termsRe = regexp.MustCompile(`\b(net ?\d{2}|net-\d{2}|deferred payment|pay later|payment later|credit terms|on credit|` +
	`installments?|instalments?|pay in (parts|\d+ (months|payments))|postdated|post dated|pdc|` +
	`special (discount|price|deal)|extra discount|additional discount|bigger discount|more discount|` +
	`\d{2} ?(%|percent) (discount|off)|discount of \d{2}|` +
	`custom(ised|ized|ise|ize|isation|ization|made)?( size| sizes| colou?r| dimensions| design| logo| branding)|` +
	`customi[sz]e|customi[sz]ation|bespoke|made to (measure|order)|our logo|with (our|my) logo)\b`)

func nonStandardTerms(n string) bool {
	return termsRe.MatchString(n) || textnorm.HasAny(n, "تقسيط", "اقساط", "دفع مؤجل", "الدفع لاحقا", "خصم خاص", "خصم اضافي", "تفصيل", "حسب الطلب", "شعارنا", "شيك مؤجل")
}

var drawingRe = regexp.MustCompile(`\b(floor ?plans?|layouts?|drawings?|blueprints?|autocad|cad file|dwg|site plan|office plan)\b|\.(dwg|dxf)\b`)

// drawings: a media message (image or document) whose name or caption says it is a plan,
// or a CAD file. Text alone ("I will send the floor plan") is not yet a drawing.
func drawings(n string, in Input) bool {
	media := false
	for _, k := range in.MessageKinds {
		if k == "image" || k == "document" || k == "file" {
			media = true
		}
	}
	if !media {
		return false
	}
	names := textnorm.ForMatching(strings.Join(in.MediaNames, " "))
	for _, nm := range in.MediaNames {
		if l := strings.ToLower(nm); strings.HasSuffix(l, ".dwg") || strings.HasSuffix(l, ".dxf") {
			return true
		}
	}
	return drawingRe.MatchString(n) || drawingRe.MatchString(names) ||
		textnorm.HasAny(n+" "+names, "مخطط", "المخطط", "مخططات", "رسم هندسي", "رسومات", "تصميم المكتب", "اوتوكاد")
}

// Strong intents confirm an order even when phrased as a question; weak ones only count in
// a statement ("can we proceed?" is still a question).
var (
	strongIntentRe = regexp.MustCompile(`\b(we confirm|i confirm|confirmed|confirming|go ahead|place (the|an|our|my) order|we accept|` +
		`we want to order|we would like to order|ready to order)\b`)
	weakIntentRe = regexp.MustCompile(`\b(proceed|we (will|ll) take|i (will|ll) take|lets do it|book (it|them)|` +
		`send (the|an|your) (invoice|proforma)|please deliver)\b`)
	strongIntentArabic = []string{"نؤكد", "اؤكد", "تم التاكيد", "اكد الطلب", "نبغى نطلب", "نريد الطلب", "اعتمد", "توكلنا"}
	weakIntentArabic   = []string{"موافق", "موافقين"}
)

var logisticsRe = regexp.MustCompile(`\b(deliver|delivered|delivery|ship|shipping|install|installation|address|` +
	`to (dubai|abu dhabi|sharjah|ajman|ras al khaimah|fujairah|umm al quwain|al ain|our office|the office|the site)|` +
	`dubai marina|jlt|business bay|difc|downtown|jafza|next (week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|` +
	`tomorrow|by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|the end of|end of)|this week|asap|urgent)\b`)

var logisticsArabic = []string{"توصيل", "تسليم", "تركيب", "العنوان", "الاسبوع القادم", "بكره", "غدا", "دبي", "ابوظبي", "الشارقه", "عجمان"}

// Goods and units that may follow a quantity ("200 chairs", "10 pcs", "5 x").
var goods = map[string]bool{
	"x": true, "pcs": true, "pc": true, "pieces": true, "piece": true, "units": true, "unit": true, "nos": true,
	"sets": true, "set": true, "seats": true, "qty": true,
	"chair": true, "chairs": true, "desk": true, "desks": true, "table": true, "tables": true, "workstation": true,
	"workstations": true, "stations": true, "cabinet": true, "cabinets": true, "pedestal": true, "pedestals": true,
	"locker": true, "lockers": true, "sofa": true, "sofas": true, "pod": true, "pods": true, "booth": true, "booths": true,
	"stool": true, "stools": true, "panel": true, "panels": true, "partition": true, "partitions": true, "screen": true,
	"screens": true, "lamp": true, "lamps": true, "arm": true, "arms": true, "item": true, "items": true,
	"كرسي": true, "كراسي": true, "مكتب": true, "مكاتب": true, "طاوله": true, "طاولات": true, "قطعه": true, "قطع": true,
	"وحده": true, "وحدات": true,
}

// Units are goods words that do not say what the goods are.
var units = map[string]bool{"x": true, "pcs": true, "pc": true, "pieces": true, "piece": true, "units": true, "unit": true,
	"nos": true, "sets": true, "set": true, "qty": true, "items": true, "item": true, "قطعه": true, "قطع": true, "وحده": true, "وحدات": true}

// Words that may precede a quantity; any other short Latin word before a number is a model
// prefix ("CH 190", "NOVO 1200", "AF 1400").
var beforeQty = map[string]bool{
	"x": true, "to": true, "of": true, "for": true, "me": true, "us": true, "we": true, "i": true, "and": true,
	"the": true, "buy": true, "need": true, "want": true, "get": true, "all": true, "with": true, "qty": true,
	"about": true, "only": true, "just": true, "some": true, "order": true, "take": true, "deliver": true,
	"send": true, "confirm": true, "another": true, "total": true, "is": true, "are": true, "be": true,
}

var (
	latinWord = regexp.MustCompile(`^[a-z]{1,5}$`)
	digits    = regexp.MustCompile(`^\d{1,5}$`)
	numX      = regexp.MustCompile(`^(\d{1,5})x$`)
	xNum      = regexp.MustCompile(`^x(\d{1,5})$`)
)

// ParseOrder reads intent, quantity and logistics from a message. Model numbers are not
// quantities (LESSONS row 15): in "5 x CH 190" the quantity is 5 and "CH 190" is the SKU.
func ParseOrder(text string) Order {
	n := textnorm.ForMatching(text)
	var o Order
	question := textnorm.IsQuestion(text)
	o.Intent = strongIntentRe.MatchString(n) || textnorm.HasAny(n, strongIntentArabic...) ||
		(!question && (weakIntentRe.MatchString(n) || textnorm.HasAny(n, weakIntentArabic...)))
	o.Logistics = logisticsRe.MatchString(n) || textnorm.HasAny(n, logisticsArabic...)
	toks := strings.Fields(n)
	for i, tok := range toks {
		q := 0
		switch {
		case numX.MatchString(tok):
			q, _ = strconv.Atoi(numX.FindStringSubmatch(tok)[1])
		case xNum.MatchString(tok):
			q, _ = strconv.Atoi(xNum.FindStringSubmatch(tok)[1])
		case digits.MatchString(tok):
			prev, next := "", ""
			if i > 0 {
				prev = toks[i-1]
			}
			if i+1 < len(toks) {
				next = toks[i+1]
			}
			if latinWord.MatchString(prev) && !beforeQty[prev] {
				continue // a model number
			}
			if goods[next] || prev == "x" || prev == "qty" {
				q, _ = strconv.Atoi(tok)
				if q > o.Quantity {
					o.Noun = ""
					if goods[next] && !units[next] {
						o.Noun = next
					}
				}
			}
		}
		if q > o.Quantity {
			o.Quantity = q
		}
	}
	return o
}

type softRule struct {
	name, reason string
	match        func(n string) bool
}

func re(expr string, arabic ...string) func(string) bool {
	r := regexp.MustCompile(expr)
	return func(n string) bool { return r.MatchString(n) || textnorm.HasAny(n, arabic...) }
}

// softRules detectable in code; the rest (delivery outside the knowledge base, not
// convinced, …) come from the model's escalate_to_manager tool as "soft:<name>".
var softRules = []softRule{
	{"realises_bot", "customer realised they are talking to a bot",
		re(`\b(are you|is this|am i talking to|am i chatting with) (a |an )?(bot|robot|ai|machine|computer)\b`, "انت روبوت", "هل انت بوت", "هل انت روبوت", "انت بوت")},
	{"phone_call", "customer wants a phone call",
		re(`\b(call me|give me a call|phone call|can you call|could you call|please call|ring me|call back)\b`, "اتصل بي", "اتصلوا بي", "كلمني", "اتصال هاتفي")},
	{"showroom_visit", "customer wants to visit the showroom",
		re(`\b(visit (your|the) (showroom|office|warehouse)|come to (your|the) showroom|showroom (address|location|visit))\b`, "زياره المعرض", "عنوان المعرض", "ازور المعرض")},
	{"product_samples", "customer asks for samples",
		re(`\b(samples?|swatch(es)?)\b`, "عينه", "عينات")},
	{"manager_language", "customer wants a manager speaking a specific language",
		re(`\b(speaks?|speaking) (arabic|russian|hindi|urdu|french|english|tagalog|malayalam)\b`, "يتكلم عربي", "يتحدث العربيه")},
	{"named_manager", "customer asks for a specific manager",
		re(`\b(my (previous |usual )?(manager|sales ?person|contact)|the (manager|person) i (spoke|talked|dealt) (to|with))\b`)},
	{"bulk_wholesale", "bulk or wholesale request",
		re(`\b(wholesale|bulk (order|purchase|price|pricing)|distributor|reseller)\b`, "جمله", "بالجمله")},
	{"full_office", "full office furnishing",
		re(`\b(full office|whole office|entire office|complete office|furnish (our|the|an|my) (whole |entire |new )?office|fit ?out)\b`, "تاثيث مكتب كامل", "تجهيز مكتب كامل")},
	{"big_project", "big project or tender",
		re(`\b(tender|rfq|big project|large project|project of \d+)\b`, "مناقصه", "مشروع كبير")},
	{"b2b_company", "company (B2B) customer",
		re(`\b(our company|for our company|we are a company|on behalf of (our|my) company|procurement)\b`, "شركتنا", "لشركتنا")},
}
