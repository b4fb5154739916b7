// Package activities holds everything workflows do to the world: the database, the LLM,
// retrieval, WhatsApp, Zoho, Telegram, PDFs. Each group is a struct holding its clients;
// its exported methods are the activities. External clients live in sub-packages next to
// them, each with an in-repo fake (wazzup/wazzuptest, llm/llmtest, …).
package activities

import (
	"io/fs"
	"log/slog"
	"reflect"

	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/knowledge"
	"github.com/treejar/noor/activities/llm"
	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/activities/wazzup"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/demodata"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/prompts"
)

// Set is every activity group a worker registers.
type Set struct {
	Settings     *Settings
	Conversation *Conversation
	Messaging    *Messaging
	Catalog      *catalog.Activities
	Knowledge    *knowledge.Activities
	Escalations  *Escalations
	FollowUps    *FollowUps
	Alerts       *Alerts
	CRM          *CRM

	// Shared clients other groups use (not activities themselves).
	Embedder  embed.Embedder
	Retriever *retrieval.Retriever
	Zoho      *zoho.Client     // nil without Zoho credentials
	Stock     zoho.StockSource // Zoho Inventory or the built-in local inventory
	Notifier  *notify.Notifier
	// Backends are the CRM and inventory of a sale (Zoho, or the built-in local ones);
	// Quotes prepares quotations, their sale orders and PDFs.
	Backends zoho.Backends
	Quotes   *quote.Service
}

// All lists the activity structs for registration.
func (s *Set) All() []any {
	var out []any
	for _, g := range []any{s.Settings, s.Conversation, s.Messaging, s.Catalog, s.Knowledge, s.Escalations, s.FollowUps, s.Alerts, s.CRM} {
		if !isNil(g) {
			out = append(out, g)
		}
	}
	return out
}

// isNil: a group left unset is a typed nil pointer inside the interface.
func isNil(v any) bool {
	return v == nil || reflect.ValueOf(v).IsNil()
}

// Deps are the process-wide dependencies activity groups are built from.
type Deps struct {
	Config  config.Config
	Store   *db.Store
	Log     *slog.Logger
	Metrics *metrics.App
	// Optional overrides (tests, and features that provide their own implementation).
	LLM     Chatter
	Prompts prompts.Source
}

// Build creates every activity group, choosing each provider from the configuration:
// the live integration when it is configured, the built-in local one otherwise.
func Build(d Deps) (*Set, error) {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d.Log = log
	s := &Set{Settings: &Settings{Store: d.Store, Env: d.Config}}
	s.Notifier = NewNotifier(d)

	// Catalog, embeddings, stock, retrieval and the knowledge base.
	s.Embedder = embed.New(d.Config.Embeddings)
	var src catalog.Source
	if d.Config.CatalogAPIURL != "" {
		src = catalog.NewClient(d.Config.CatalogAPIURL)
	} else {
		sub, err := fs.Sub(demodata.FS, "catalog")
		if err != nil {
			return nil, err
		}
		src = catalog.Snapshot{FS: sub}
	}
	s.Catalog = &catalog.Activities{Source: src, Store: d.Store, Embedder: s.Embedder, Log: log}
	s.Backends = zoho.NewBackends(d.Config.Zoho, d.Store, log)
	s.Stock = s.Backends.Sales
	if s.Backends.Client != nil {
		s.Zoho = s.Backends.Client
		s.Catalog.Inventory = s.Zoho.Inventory
	}
	s.Knowledge = &knowledge.Activities{Indexer: &knowledge.Indexer{Store: d.Store, Embedder: s.Embedder, Log: log},
		Dir: d.Config.KnowledgeDir}
	llmClient := llm.New(d.Config.LLM.BaseURL, d.Config.LLM.APIKey.Reveal(), nil)
	var extractor retrieval.FilterExtractor
	if d.Config.LLM.Configured() {
		extractor = retrieval.NewLLMExtractor(llmClient, d.Config.LLM.FastModel)
	}
	s.Retriever = retrieval.New(d.Store, s.Embedder, extractor, log)

	// The agent's tools.
	tools := &ToolRegistry{}
	for _, t := range coreWorkflowTools() {
		tools.Register(t)
	}
	cat := catalogProvider{retriever: s.Retriever, stock: s.Stock, lowStock: 5}
	for _, t := range catalogTools(cat, cat, cat) {
		tools.Register(t)
	}

	// The sale: customer identity, personal prices, deals, order status and quotations.
	s.Quotes = &quote.Service{Store: d.Store, Catalog: s.Retriever, CRM: s.Backends.CRM, Sales: s.Backends.Sales,
		Renderer: quote.NewRenderer(log), Signer: quote.Signer{Key: []byte(d.Config.SigningKey.Reveal())},
		BaseURL: d.Config.PublicBaseURL, Settings: s.Settings, Log: log}
	s.CRM = &CRM{Store: d.Store, Backends: s.Backends, Quotes: s.Quotes, Settings: s.Settings, Notifier: s.Notifier, Log: log}
	for _, t := range s.CRM.crmTools() {
		tools.Register(t)
	}
	if t, ok := tools.Get(ToolSearchProducts); ok {
		tools.Register(s.CRM.withCustomerPrices(t))
	}

	chat := d.LLM
	var transcriber Transcriber
	if chat == nil {
		chat, transcriber = llmClient, llmClient
	}
	// Prompts edited in the console (versions in PostgreSQL) win over the embedded defaults,
	// from the next turn on.
	var prompter prompts.Source = d.Store
	if d.Prompts != nil {
		prompter = d.Prompts
	}
	s.Conversation = &Conversation{Store: d.Store, LLM: chat, Prompts: prompter, Tools: tools, Config: d.Config,
		Log: log, Metrics: d.Metrics, Settings: s.Settings, Transcriber: transcriber}

	s.Messaging = NewMessaging(d)
	s.Messaging.Settings, s.Messaging.Notifier = s.Settings, s.Notifier

	// Escalations, follow-ups and manager alerts.
	s.Escalations = &Escalations{Store: d.Store, Notifier: s.Notifier, PublicBaseURL: d.Config.PublicBaseURL, Log: log}
	s.Conversation.Escalations = s.Escalations
	s.FollowUps = &FollowUps{Store: d.Store, Log: log}
	s.Alerts = &Alerts{Notifier: s.Notifier}
	return s, nil
}

// NewMessaging is the outbound gateway on its own, for a process that sends without
// running activities: the API sends a manager's console reply through it, so that reply
// takes the same path (ledger, idempotency key, 24-hour window) as Noor's.
func NewMessaging(d Deps) *Messaging {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d.Log = log
	m := &Messaging{Store: d.Store, Simulator: simulatorMessenger{}, Notifier: NewNotifier(d),
		Settings: &Settings{Store: d.Store, Env: d.Config}, Log: log, Metrics: d.Metrics}
	if d.Config.Wazzup.Live() {
		m.Wazzup = wazzup.NewClient(d.Config.Wazzup.APIURL, d.Config.Wazzup.APIKey.Reveal())
	}
	return m
}

// NewNotifier is the process's manager-alert notifier: Telegram when TELEGRAM_BOT_TOKEN and
// TELEGRAM_CHAT_ID are set, the console (notifications table) otherwise.
func NewNotifier(d Deps) *notify.Notifier {
	n := &notify.Notifier{Store: d.Store, Log: d.Log, Metrics: d.Metrics}
	if d.Config.Telegram.Live() {
		n.Telegram = telegram.New(d.Config.Telegram.APIURL, d.Config.Telegram.BotToken.Reveal())
		n.ChatID = d.Config.Telegram.ChatID
	}
	return n
}
