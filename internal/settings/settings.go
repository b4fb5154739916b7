// Package settings is the typed, validated business configuration that admins edit at run
// time (the numbers of DOMAIN.md). It is stored as one JSON document in PostgreSQL
// (db.Store.Settings / SaveSettings); workflows read it only through an activity.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as "4s", "23h", "72h".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"4s\" or \"72h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// Conversation tunes the conversation workflow.
type Conversation struct {
	DebounceWindow      Duration `json:"debounce_window" help:"quiet period that closes a burst of customer messages"`
	DebounceCap         Duration `json:"debounce_cap" help:"a customer who keeps typing is answered after at most this long"`
	DefaultLanguage     string   `json:"default_language" help:"en or ar: the language before the customer's is known"`
	MaxToolRounds       int      `json:"max_tool_rounds" help:"LLM/tool rounds per turn before the reply is forced"`
	MaxSearchesPerTurn  int      `json:"max_searches_per_turn" help:"product searches allowed in one turn"`
	ContextMessages     int      `json:"context_messages" help:"last messages given verbatim to the model"`
	ContextChars        int      `json:"context_chars" help:"cap on the verbatim tail, in characters"`
	SummaryAfter        int      `json:"summary_after_messages" help:"refresh the facts-only summary once a dialogue has this many messages"`
	MaxInboundChars     int      `json:"max_inbound_chars" help:"longer customer texts are truncated before storage and the LLM"`
	ContinueAsNewEvents int      `json:"continue_as_new_events" help:"history length that triggers continue-as-new (0 = when Temporal suggests)"`
}

// LLM bounds every model call (cost and latency).
type LLM struct {
	ReplyMaxTokens        int      `json:"reply_max_tokens"`
	ReplyTimeout          Duration `json:"reply_timeout"`
	ReplyTemperature      float64  `json:"reply_temperature"`
	HelperMaxTokens       int      `json:"helper_max_tokens"`
	HelperTimeout         Duration `json:"helper_timeout"`
	JudgeMaxTokens        int      `json:"judge_max_tokens"`
	BackgroundBudgetUSD   float64  `json:"background_daily_budget_usd" help:"daily cap for quality scoring and summaries"`
	PromptPricePerMTokUSD float64  `json:"prompt_price_per_mtok_usd" help:"used for cost when the provider does not return it"`
	OutputPricePerMTokUSD float64  `json:"output_price_per_mtok_usd"`
}

// Escalation holds the thresholds and the switchable soft triggers.
type Escalation struct {
	OrderThresholdAED float64         `json:"order_threshold_aed"`
	AckInterval       Duration        `json:"ack_interval" help:"a waiting customer gets at most one acknowledgement per interval"`
	ReminderInterval  Duration        `json:"reminder_interval" help:"managers get at most one reminder per interval"`
	SLA               Duration        `json:"sla" help:"time to the first manager response before an SLA alert"`
	SoftTriggers      map[string]bool `json:"soft_triggers" help:"the client's optional triggers, each on or off"`
}

// FollowUps are the proactive messages and their timing.
type FollowUps struct {
	QuoteEnabled        bool       `json:"quote_enabled"`
	QuoteDelays         []Duration `json:"quote_delays" help:"after a quotation: +23h (free text), +3d and +7d (templates)"`
	NoResponseAfter     Duration   `json:"no_response_after"`
	AutoReplyPause      Duration   `json:"auto_reply_pause" help:"pause when an auto-reply gives no return date"`
	InactivityEnabled   bool       `json:"inactivity_enabled"`
	InactivityDelays    []Duration `json:"inactivity_delays"`
	PaymentEnabled      bool       `json:"payment_reminders_enabled"`
	PaymentMinAge       Duration   `json:"payment_reminder_min_age"`
	PaymentPerDay       int        `json:"payment_reminders_per_day"`
	PaymentMaxPerRun    int        `json:"payment_reminders_max" help:"payment reminders per approved quote, in total"`
	FeedbackEnabled     bool       `json:"feedback_enabled"`
	FeedbackDelayMin    Duration   `json:"feedback_delay_min"`
	FeedbackDelayMax    Duration   `json:"feedback_delay_max"`
	FreeTextWindow      Duration   `json:"free_text_window" help:"WhatsApp's window for free text after the customer's last message"`
	TemplateIDs         Templates  `json:"templates" help:"approved WhatsApp template ids per purpose and language"`
	OptOutKeywords      []string   `json:"opt_out_keywords"`
	ProactiveQuietHours bool       `json:"respect_business_hours"`
}

// Templates maps purpose -> language -> template id.
type Templates map[string]map[string]string

// BusinessHours is when proactive messages may go out.
type BusinessHours struct {
	TimeZone string   `json:"time_zone"`
	Open     string   `json:"open" help:"HH:MM"`
	Close    string   `json:"close" help:"HH:MM"`
	Days     []string `json:"days" help:"mon..sun"`
}

// Pricing and quotation rules.
type Pricing struct {
	VATPercent        float64           `json:"vat_percent"`
	QuoteValidityDays int               `json:"quote_validity_days"`
	TRN               string            `json:"trn"`
	PaymentTerms      string            `json:"payment_terms"`
	DeliveryTerms     string            `json:"delivery_terms"`
	DeliveryFees      []DeliveryFee     `json:"delivery_fees"`
	CRMStageMapping   map[string]string `json:"crm_stage_mapping" help:"our sales stage -> Zoho deal stage"`
	LowStockThreshold int               `json:"low_stock_threshold"`
}

// DeliveryFee is one row of the delivery fee table: orders of at least MinOrderAED pay FeeAED.
type DeliveryFee struct {
	MinOrderAED float64 `json:"min_order_aed"`
	FeeAED      float64 `json:"fee_aed"`
}

// Quality is the LLM-as-judge schedule.
type Quality struct {
	Enabled      bool     `json:"enabled"`
	IdleBefore   Duration `json:"idle_before_review"`
	ManagerAlert float64  `json:"manager_alert_below"`
}

// Referrals policy (off until the business approves it).
type Referrals struct {
	Enabled        bool    `json:"enabled"`
	NewCustomerPct float64 `json:"new_customer_percent"`
	ReferrerPct    float64 `json:"referrer_percent"`
	ValidDays      int     `json:"valid_days"`
}

// Settings is the whole document.
type Settings struct {
	Conversation  Conversation  `json:"conversation"`
	LLM           LLM           `json:"llm"`
	Escalation    Escalation    `json:"escalation"`
	FollowUps     FollowUps     `json:"follow_ups"`
	BusinessHours BusinessHours `json:"business_hours"`
	Pricing       Pricing       `json:"pricing"`
	Quality       Quality       `json:"quality"`
	Referrals     Referrals     `json:"referrals"`
}

// SoftTriggerNames are the client's optional escalation triggers (DOMAIN.md); hard triggers
// (explicit human request, complaint/return/legal/aggression, non-standard terms, order
// above the threshold ready to proceed, drawings) are always on and are not listed here.
var SoftTriggerNames = []string{
	"realises_bot", "failed_twice", "delivery_outside_kb", "named_manager", "showroom_visit",
	"b2b_company", "bulk_wholesale", "full_office", "big_project", "product_samples",
	"not_convinced", "phone_call", "manager_language",
}

// Stages in order; the state machine lives in the conversation workflow.
var Stages = []string{"greeting", "qualifying", "needs_analysis", "solution", "company_details", "quoting", "closing", "feedback"}

// Defaults returns the numbers of DOMAIN.md.
func Defaults() Settings {
	h := func(n int) Duration { return Duration(time.Duration(n) * time.Hour) }
	soft := map[string]bool{}
	for _, n := range SoftTriggerNames {
		soft[n] = false
	}
	// Production lesson: escalating on bulk/B2B killed sales; only these few stay on.
	soft["failed_twice"] = true
	soft["phone_call"] = true
	soft["named_manager"] = true
	return Settings{
		Conversation: Conversation{
			DebounceWindow:     Duration(4 * time.Second),
			DebounceCap:        Duration(20 * time.Second),
			DefaultLanguage:    "en",
			MaxToolRounds:      4,
			MaxSearchesPerTurn: 2,
			ContextMessages:    8,
			ContextChars:       3000,
			SummaryAfter:       8,
			MaxInboundChars:    4000,
		},
		LLM: LLM{
			ReplyMaxTokens:        700,
			ReplyTimeout:          Duration(90 * time.Second),
			ReplyTemperature:      0.3,
			HelperMaxTokens:       800,
			HelperTimeout:         Duration(45 * time.Second),
			JudgeMaxTokens:        2500,
			BackgroundBudgetUSD:   2,
			PromptPricePerMTokUSD: 0.4,
			OutputPricePerMTokUSD: 1.6,
		},
		Escalation: Escalation{
			OrderThresholdAED: 10000,
			AckInterval:       Duration(30 * time.Minute),
			ReminderInterval:  Duration(5 * time.Minute),
			SLA:               Duration(15 * time.Minute),
			SoftTriggers:      soft,
		},
		FollowUps: FollowUps{
			QuoteEnabled:        true,
			QuoteDelays:         []Duration{h(23), h(72), h(168)},
			NoResponseAfter:     h(24),
			AutoReplyPause:      h(72),
			InactivityEnabled:   false,
			InactivityDelays:    []Duration{h(24), h(72), h(168)},
			PaymentEnabled:      true,
			PaymentMinAge:       h(24),
			PaymentPerDay:       1,
			PaymentMaxPerRun:    3,
			FeedbackEnabled:     true,
			FeedbackDelayMin:    h(24),
			FeedbackDelayMax:    h(48),
			FreeTextWindow:      h(24),
			TemplateIDs:         Templates{},
			OptOutKeywords:      []string{"stop", "unsubscribe", "توقف", "إيقاف", "الغاء الاشتراك", "إلغاء الاشتراك"},
			ProactiveQuietHours: true,
		},
		BusinessHours: BusinessHours{
			TimeZone: "Asia/Dubai",
			Open:     "10:00",
			Close:    "20:00",
			Days:     []string{"mon", "tue", "wed", "thu", "fri"},
		},
		Pricing: Pricing{
			VATPercent:        5,
			QuoteValidityDays: 15,
			TRN:               "100418386400003",
			PaymentTerms:      "50% advance, 50% after installation",
			DeliveryTerms:     "Delivery in 2-8 working days after confirmation",
			DeliveryFees:      []DeliveryFee{{MinOrderAED: 0, FeeAED: 150}, {MinOrderAED: 5000, FeeAED: 0}},
			CRMStageMapping: map[string]string{
				"greeting":        "New Lead",
				"qualifying":      "Qualification",
				"needs_analysis":  "Qualification",
				"solution":        "Negotiations",
				"company_details": "Negotiations",
				"quoting":         "Offer sent",
				"closing":         "Order confirmed",
				"feedback":        "Order collected/delivered",
			},
			LowStockThreshold: 5,
		},
		Quality:   Quality{Enabled: true, IdleBefore: h(3), ManagerAlert: 9},
		Referrals: Referrals{Enabled: false, NewCustomerPct: 10, ReferrerPct: 5, ValidDays: 90},
	}
}

// FieldError names the setting that is wrong.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// Validate checks ranges and consistency; it returns a *ValidationError.
func (s Settings) Validate() error {
	var fe []FieldError
	bad := func(field, msg string, args ...any) { fe = append(fe, FieldError{field, fmt.Sprintf(msg, args...)}) }
	between := func(field string, d Duration, lo, hi time.Duration) {
		if d.D() < lo || d.D() > hi {
			bad(field, "must be between %s and %s, got %s", lo, hi, d.D())
		}
	}
	c := s.Conversation
	between("conversation.debounce_window", c.DebounceWindow, 500*time.Millisecond, time.Minute)
	between("conversation.debounce_cap", c.DebounceCap, time.Second, 5*time.Minute)
	if c.DebounceCap < c.DebounceWindow {
		bad("conversation.debounce_cap", "must not be shorter than debounce_window")
	}
	if c.DefaultLanguage != "en" && c.DefaultLanguage != "ar" {
		bad("conversation.default_language", "must be en or ar")
	}
	if c.MaxToolRounds < 1 || c.MaxToolRounds > 8 {
		bad("conversation.max_tool_rounds", "must be 1..8")
	}
	if c.MaxSearchesPerTurn < 1 || c.MaxSearchesPerTurn > 5 {
		bad("conversation.max_searches_per_turn", "must be 1..5")
	}
	if c.ContextMessages < 2 || c.ContextMessages > 40 {
		bad("conversation.context_messages", "must be 2..40")
	}
	if c.ContextChars < 500 || c.ContextChars > 20000 {
		bad("conversation.context_chars", "must be 500..20000")
	}
	if c.SummaryAfter < 4 || c.SummaryAfter > 200 {
		bad("conversation.summary_after_messages", "must be 4..200")
	}
	if c.MaxInboundChars < 200 || c.MaxInboundChars > 20000 {
		bad("conversation.max_inbound_chars", "must be 200..20000")
	}
	if c.ContinueAsNewEvents != 0 && (c.ContinueAsNewEvents < 20 || c.ContinueAsNewEvents > 50000) {
		bad("conversation.continue_as_new_events", "must be 0 or 20..50000")
	}

	l := s.LLM
	if l.ReplyMaxTokens < 50 || l.ReplyMaxTokens > 4000 {
		bad("llm.reply_max_tokens", "must be 50..4000")
	}
	if l.HelperMaxTokens < 50 || l.HelperMaxTokens > 8000 {
		bad("llm.helper_max_tokens", "must be 50..8000")
	}
	if l.JudgeMaxTokens < 200 || l.JudgeMaxTokens > 8000 {
		bad("llm.judge_max_tokens", "must be 200..8000")
	}
	between("llm.reply_timeout", l.ReplyTimeout, time.Second, 120*time.Second)
	between("llm.helper_timeout", l.HelperTimeout, time.Second, 120*time.Second)
	if l.ReplyTemperature < 0 || l.ReplyTemperature > 1.5 {
		bad("llm.reply_temperature", "must be 0..1.5")
	}
	if l.BackgroundBudgetUSD < 0 || l.BackgroundBudgetUSD > 1000 {
		bad("llm.background_daily_budget_usd", "must be 0..1000")
	}
	if l.PromptPricePerMTokUSD < 0 || l.OutputPricePerMTokUSD < 0 {
		bad("llm.prompt_price_per_mtok_usd", "prices must not be negative")
	}

	e := s.Escalation
	if e.OrderThresholdAED <= 0 {
		bad("escalation.order_threshold_aed", "must be positive")
	}
	between("escalation.ack_interval", e.AckInterval, time.Minute, 24*time.Hour)
	between("escalation.reminder_interval", e.ReminderInterval, time.Minute, 24*time.Hour)
	between("escalation.sla", e.SLA, time.Minute, 24*time.Hour)
	for name := range e.SoftTriggers {
		if !contains(SoftTriggerNames, name) {
			bad("escalation.soft_triggers."+name, "unknown trigger (known: %s)", strings.Join(SoftTriggerNames, ", "))
		}
	}

	f := s.FollowUps
	if len(f.QuoteDelays) == 0 || len(f.QuoteDelays) > 5 {
		bad("follow_ups.quote_delays", "must list 1..5 delays")
	}
	for i, d := range f.QuoteDelays {
		between(fmt.Sprintf("follow_ups.quote_delays[%d]", i), d, time.Minute, 30*24*time.Hour)
		if i > 0 && d <= f.QuoteDelays[i-1] {
			bad(fmt.Sprintf("follow_ups.quote_delays[%d]", i), "delays must increase")
		}
	}
	for i, d := range f.InactivityDelays {
		between(fmt.Sprintf("follow_ups.inactivity_delays[%d]", i), d, time.Hour, 30*24*time.Hour)
	}
	between("follow_ups.no_response_after", f.NoResponseAfter, time.Hour, 14*24*time.Hour)
	between("follow_ups.auto_reply_pause", f.AutoReplyPause, time.Hour, 30*24*time.Hour)
	between("follow_ups.payment_reminder_min_age", f.PaymentMinAge, 24*time.Hour, 30*24*time.Hour)
	if f.PaymentPerDay < 0 || f.PaymentPerDay > 3 {
		bad("follow_ups.payment_reminders_per_day", "must be 0..3")
	}
	if f.PaymentMaxPerRun < 0 || f.PaymentMaxPerRun > 10 {
		bad("follow_ups.payment_reminders_max", "must be 0..10")
	}
	between("follow_ups.feedback_delay_min", f.FeedbackDelayMin, time.Hour, 14*24*time.Hour)
	if f.FeedbackDelayMax < f.FeedbackDelayMin {
		bad("follow_ups.feedback_delay_max", "must not be before feedback_delay_min")
	}
	between("follow_ups.free_text_window", f.FreeTextWindow, time.Hour, 24*time.Hour)
	for purpose, byLang := range f.TemplateIDs {
		for lang := range byLang {
			if lang != "en" && lang != "ar" {
				bad("follow_ups.templates."+purpose+"."+lang, "language must be en or ar")
			}
		}
	}

	b := s.BusinessHours
	if _, err := time.LoadLocation(b.TimeZone); err != nil {
		bad("business_hours.time_zone", "unknown time zone %q", b.TimeZone)
	}
	open, errO := ParseClock(b.Open)
	closeT, errC := ParseClock(b.Close)
	if errO != nil {
		bad("business_hours.open", "%v", errO)
	}
	if errC != nil {
		bad("business_hours.close", "%v", errC)
	}
	if errO == nil && errC == nil && closeT <= open {
		bad("business_hours.close", "must be after open")
	}
	if len(b.Days) == 0 {
		bad("business_hours.days", "at least one day")
	}
	for _, d := range b.Days {
		if _, ok := weekdays[strings.ToLower(d)]; !ok {
			bad("business_hours.days", "unknown day %q (use mon..sun)", d)
		}
	}

	p := s.Pricing
	if p.VATPercent < 0 || p.VATPercent > 50 {
		bad("pricing.vat_percent", "must be 0..50")
	}
	if p.QuoteValidityDays < 1 || p.QuoteValidityDays > 90 {
		bad("pricing.quote_validity_days", "must be 1..90")
	}
	if strings.TrimSpace(p.TRN) == "" {
		bad("pricing.trn", "required on quotations")
	}
	for i, fee := range p.DeliveryFees {
		if fee.MinOrderAED < 0 || fee.FeeAED < 0 {
			bad(fmt.Sprintf("pricing.delivery_fees[%d]", i), "amounts must not be negative")
		}
	}
	for stage := range p.CRMStageMapping {
		if !contains(Stages, stage) {
			bad("pricing.crm_stage_mapping."+stage, "unknown sales stage")
		}
	}
	if p.LowStockThreshold < 0 {
		bad("pricing.low_stock_threshold", "must not be negative")
	}

	between("quality.idle_before_review", s.Quality.IdleBefore, 10*time.Minute, 7*24*time.Hour)
	if s.Referrals.NewCustomerPct < 0 || s.Referrals.NewCustomerPct > 50 || s.Referrals.ReferrerPct < 0 || s.Referrals.ReferrerPct > 50 {
		bad("referrals", "percentages must be 0..50")
	}
	if s.Referrals.ValidDays < 1 || s.Referrals.ValidDays > 365 {
		bad("referrals.valid_days", "must be 1..365")
	}

	if len(fe) == 0 {
		return nil
	}
	sort.SliceStable(fe, func(i, j int) bool { return fe[i].Field < fe[j].Field })
	return &ValidationError{Fields: fe}
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseClock parses "HH:MM" into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ApplyPatch merges a JSON merge patch (RFC 7396) onto s and decodes the result strictly:
// unknown fields and wrong types are errors naming the field. The result is validated.
func (s Settings) ApplyPatch(patch []byte) (Settings, error) {
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return s, &ValidationError{Fields: []FieldError{{Field: "(body)", Message: "not valid JSON: " + err.Error()}}}
	}
	if _, ok := p.(map[string]any); !ok {
		return s, &ValidationError{Fields: []FieldError{{Field: "(body)", Message: "must be a JSON object"}}}
	}
	curJSON, err := json.Marshal(s)
	if err != nil {
		return s, err
	}
	var cur any
	if err := json.Unmarshal(curJSON, &cur); err != nil {
		return s, err
	}
	merged, err := json.Marshal(mergePatch(cur, p))
	if err != nil {
		return s, err
	}
	var out Settings
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return s, &ValidationError{Fields: []FieldError{decodeFieldError(err)}}
	}
	if err := out.Validate(); err != nil {
		return s, err
	}
	return out, nil
}

func decodeFieldError(err error) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return FieldError{Field: te.Field, Message: fmt.Sprintf("expected %s, got JSON %s", te.Type, te.Value)}
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return FieldError{Field: strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), Message: "unknown setting"}
	}
	return FieldError{Field: "(body)", Message: msg}
}

func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

// Decode reads a stored document, filling fields the document lacks (added by a newer
// release) from the defaults.
func Decode(doc []byte) (Settings, error) {
	s := Defaults()
	if len(doc) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, fmt.Errorf("decode settings: %w", err)
	}
	return s, nil
}
