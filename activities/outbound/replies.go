package outbound

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/treejar/noor/internal/textnorm"
)

// Reply kinds, in the order ClassifyReply checks them.
const (
	ReplyOptOut    = "opt_out"
	ReplyAutoReply = "auto_reply"
	ReplyRefusal   = "refusal"
	ReplyOther     = "reply"
)

// Reply is a customer message classified for the follow-up machinery.
type Reply struct {
	Kind string
	// Until is the return date of an auto-reply (start of that day in the business zone);
	// zero when the auto-reply names none.
	Until time.Time
}

// ClassifyReply: opt-out first (it must win over everything), then auto-reply, refusal,
// and otherwise an ordinary reply. now and loc resolve dates without a year.
func ClassifyReply(text string, now time.Time, loc *time.Location, optOutKeywords []string) Reply {
	if IsOptOut(text, optOutKeywords) {
		return Reply{Kind: ReplyOptOut}
	}
	if ar := DetectAutoReply(text, now, loc); ar.Auto {
		return Reply{Kind: ReplyAutoReply, Until: ar.Until}
	}
	if IsRefusal(text) {
		return Reply{Kind: ReplyRefusal}
	}
	return Reply{Kind: ReplyOther}
}

// Words that may surround an opt-out keyword without changing its meaning.
var fillers = map[string]bool{
	"please": true, "pls": true, "plz": true, "now": true, "thanks": true, "thank": true, "you": true,
	"ok": true, "okay": true, "just": true, "من": true, "فضلك": true, "لو": true, "سمحت": true,
	"الرجاء": true, "رجاء": true, "شكرا": true,
}

var optOutPatterns = regexp.MustCompile(`\b(stop (sending|messaging|texting|contacting|writing|spamming)|` +
	`(dont|do not|never) (message|text|contact|write to|send messages to|send me messages|bother) (me|us)|` +
	`remove (me|us|my number) from|opt ?out|unsubscribe|no more (messages|marketing|promotions))\b`)

var optOutArabic = []string{
	"الغاء الاشتراك", "توقف عن الارسال", "توقفوا عن الارسال", "توقف عن ارسال", "توقفوا عن ارسال",
	"لا ترسل", "لا ترسلوا", "لا تراسلني", "لا تراسلوني", "اوقف الرسائل", "ايقاف الرسائل", "لا اريد رسائل",
}

// IsOptOut reports whether the customer asks to receive no more messages: a configured
// keyword as the whole message (politeness words allowed around it: "STOP please",
// "توقف من فضلك"), or an explicit request such as "stop sending me messages",
// "unsubscribe", "لا ترسلوا لي رسائل". "Stop" inside an ordinary sentence is not an opt-out.
func IsOptOut(text string, keywords []string) bool {
	n := textnorm.ForMatching(text)
	if n == "" {
		return false
	}
	var core []string
	for _, w := range strings.Fields(n) {
		if !fillers[w] {
			core = append(core, w)
		}
	}
	c := strings.Join(core, " ")
	for _, k := range keywords {
		if kn := textnorm.ForMatching(k); kn != "" && c == kn {
			return true
		}
	}
	return optOutPatterns.MatchString(n) || textnorm.HasAny(n, optOutArabic...)
}

var refusalPatterns = regexp.MustCompile(`\b(not interested|no longer interested|no interest|not needed any ?more|` +
	`(dont|do not|no longer) (need|want) (it|them|this|these|that|the quote|the order|anything)( any ?more)?$|` +
	`(went|going|gone) with (another|a different|other) (supplier|company|vendor|offer)|` +
	`(bought|purchased|ordered|found) (it |them |one )?(elsewhere|somewhere else|from another)|` +
	`(found|got) (a )?(cheaper|better) (offer|price|option|one)|` +
	`(decided|decide) not to|not (going|gonna) to (buy|order|proceed)|` +
	`(we|i) (will|ll) pass|changed (our|my) mind)\b`)

// A whole message that is a polite no.
var refusalWhole = map[string]bool{"no thanks": true, "no thank you": true, "no thankyou": true}

var refusalArabic = []string{
	"غير مهتم", "غير مهتمين", "مش مهتم", "مو مهتم", "لست مهتم", "لسنا مهتمين", "ما عندي اهتمام",
	"لا اريد", "لا نريد", "ما ابغى", "ما نبغى", "مش عايز", "لا نحتاج", "لا احتاج", "الغ الطلب",
	"اشترينا من مكان اخر", "اشتريت من مكان اخر", "لا شكرا",
}

var questionStart = regexp.MustCompile(`^(can|could|how|what|is it possible|may|هل|كيف|ممكن)( |$)`)

var cancelRe = regexp.MustCompile(`\bcancel(l?ed|l?ing)?\b`)

// Words that turn "cancel" into a change of the order rather than a refusal.
var cancelPartial = regexp.MustCompile(`\b(item|items|one of|line|instead|replace|change|swap|add|only the|just the|quantity)\b`)

// IsRefusal reports an explicit no: "not interested", "cancel the order", "we went with
// another supplier", "غير مهتم", "إلغاء". Questions about cancelling ("can I cancel one
// item?") and partial changes are not refusals — the bot answers them.
func IsRefusal(text string) bool {
	n := textnorm.ForMatching(text)
	if n == "" {
		return false
	}
	if refusalWhole[n] || refusalPatterns.MatchString(n) || textnorm.HasAny(n, refusalArabic...) {
		return true
	}
	question := textnorm.IsQuestion(text) || questionStart.MatchString(n)
	if cancelRe.MatchString(n) && !cancelPartial.MatchString(n) && !question {
		return true
	}
	if textnorm.HasAny(n, "الغاء", "الغي", "الغوا") && !question && !textnorm.HasAny(n, "قطعه", "منتج", "بدل", "تغيير") {
		return true
	}
	return false
}

// AutoReply is the result of DetectAutoReply.
type AutoReply struct {
	Auto  bool
	Until time.Time
}

var autoMarkers = regexp.MustCompile(`\b(out of (the )?office|ooo|auto ?(matic )?(reply|response)|autoreply|` +
	`on (annual |sick |maternity |paternity )?(leave|vacation|holiday|holidays)|currently (away|travell?ing|unavailable|out)|` +
	`away from (the )?(office|my desk)|i am away|im away|limited access to (email|emails|whatsapp|messages|my phone)|` +
	`(will|ll) (respond|reply|get back to you) (upon|when|after) (my|i) return|back in the office)\b`)

var autoArabic = []string{
	"خارج المكتب", "في اجازه", "في الاجازه", "رد الي", "رد تلقائي", "رد اوتوماتيكي", "غير متواجد",
	"ساعود", "سنعود", "خارج الدوام",
}

// DetectAutoReply recognises an out-of-office reply ("out of office until 3 October",
// "في إجازة حتى ٣ أكتوبر") and its return date: the latest date named in the message
// (so "from 1 to 5 October" gives the 5th), as the start of that day in loc. A date
// without a year is this year's, or next year's if already past. A date in the past,
// or none, leaves Until zero (the caller then pauses for its default).
func DetectAutoReply(text string, now time.Time, loc *time.Location) AutoReply {
	n := textnorm.ForMatching(text)
	if n == "" || !(autoMarkers.MatchString(n) || textnorm.HasAny(n, autoArabic...)) {
		return AutoReply{}
	}
	if loc == nil {
		loc = time.UTC
	}
	today := dayStart(now.In(loc))
	var best time.Time
	for _, d := range findDates(n, today) {
		if d.After(best) {
			best = d
		}
	}
	if !best.After(today) {
		best = time.Time{}
	}
	return AutoReply{Auto: true, Until: best}
}

func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
	"sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
	// Gulf / Egyptian names (normalised).
	"يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يونيه": 6, "يوليو": 7,
	"يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
	// Levantine names.
	"كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8,
	"ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"الاحد": time.Sunday, "الاثنين": time.Monday, "الثلاثاء": time.Tuesday, "الاربعاء": time.Wednesday,
	"الخميس": time.Thursday, "الجمعه": time.Friday, "السبت": time.Saturday,
}

var (
	monthAlt = alternation(months)
	// Go's \b is ASCII-only, so Arabic words are delimited by spaces or the ends of the text.
	dayMonthRe = regexp.MustCompile(`(?:^| )(\d{1,2})(?:st|nd|rd|th)? (?:of )?(` + monthAlt + `)(?: (\d{4}))?(?:$| )`)
	monthDayRe = regexp.MustCompile(`(?:^| )(` + monthAlt + `) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?(?:$| )`)
	numericRe  = regexp.MustCompile(`\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b`)
	isoRe      = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	weekdayRe  = regexp.MustCompile(`(?:until|till|til|back on|return on|returning on|back|حتي|يوم)(?: يوم)? (` + alternation(weekdayNames) + `)`)
)

// alternation builds a regexp alternation of the keys, longest first so "september" wins
// over "sep" and "كانون الثاني" over "اب".
func alternation[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	sortByLenDesc(keys)
	return strings.Join(keys, "|")
}

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j]) > len(s[j-1]) || (len(s[j]) == len(s[j-1]) && s[j] < s[j-1])); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func findDates(n string, today time.Time) []time.Time {
	var out []time.Time
	add := func(y, m, d int, hasYear bool) {
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return
		}
		if hasYear && y < 100 {
			y += 2000
		}
		if !hasYear {
			y = today.Year()
		}
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, today.Location())
		if t.Day() != d { // 31 April and the like
			return
		}
		if !hasYear && t.Before(today) {
			t = t.AddDate(1, 0, 0)
		}
		out = append(out, t)
	}
	atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
	for _, m := range isoRe.FindAllStringSubmatch(n, -1) {
		add(atoi(m[1]), atoi(m[2]), atoi(m[3]), true)
	}
	n = isoRe.ReplaceAllString(n, " ")
	for _, m := range dayMonthRe.FindAllStringSubmatch(n, -1) {
		add(atoi(m[3]), int(months[m[2]]), atoi(m[1]), m[3] != "")
	}
	for _, m := range monthDayRe.FindAllStringSubmatch(n, -1) {
		add(atoi(m[3]), int(months[m[1]]), atoi(m[2]), m[3] != "")
	}
	// Numeric dates are day first in the UAE: 03/10 is the 3rd of October.
	for _, m := range numericRe.FindAllStringSubmatch(n, -1) {
		add(atoi(m[3]), atoi(m[2]), atoi(m[1]), m[3] != "")
	}
	for _, m := range weekdayRe.FindAllStringSubmatch(n, -1) {
		wd := weekdayNames[m[1]]
		days := (int(wd) - int(today.Weekday()) + 7) % 7
		if days == 0 {
			days = 7
		}
		out = append(out, today.AddDate(0, 0, days))
	}
	return out
}
