package activities

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
)

// Tool is one function the agent may call. Workflow tools change the conversation's state
// and are carried out by the workflow itself (deterministically); the others run in the
// RunTool activity. The names are a contract (DOMAIN.md): prompts, analytics and tests use them.
type Tool struct {
	Name        string
	Description string
	Parameters  map[string]any
	// Workflow: handled by the conversation workflow, not by RunTool.
	Workflow bool
	// Run executes an activity tool. The content goes to the model; the summary is one line
	// for the Temporal UI and the console.
	Run func(ctx context.Context, tc ToolCall) (ToolOutput, error)
}

// ToolCall is the context of one tool execution.
type ToolCall struct {
	ConversationID string
	TurnID         int64
	Language       string
	Args           json.RawMessage
}

// ToolOutput is what a tool returns.
type ToolOutput struct {
	Content any    // marshalled to JSON for the model
	Summary string // one line
}

// ToolRegistry holds the tools in registration order (the order the model sees them).
type ToolRegistry struct {
	mu    sync.RWMutex
	tools []Tool
}

// Register adds or replaces a tool. Later features add their tools here.
func (r *ToolRegistry) Register(t Tool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.tools {
		if r.tools[i].Name == t.Name {
			r.tools[i] = t
			return
		}
	}
	r.tools = append(r.tools, t)
}

// Get finds a tool by name.
func (r *ToolRegistry) Get(name string) (Tool, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, t := range r.tools {
		if t.Name == name {
			return t, true
		}
	}
	return Tool{}, false
}

// List returns the tools in order.
func (r *ToolRegistry) List() []Tool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]Tool(nil), r.tools...)
}

// WorkflowToolNames lists the tools the workflow handles itself.
func (r *ToolRegistry) WorkflowToolNames() []string {
	var out []string
	for _, t := range r.List() {
		if t.Workflow {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
func num(desc string) map[string]any { return map[string]any{"type": "number", "description": desc} }
func enum(desc string, vals ...string) map[string]any {
	return map[string]any{"type": "string", "description": desc, "enum": vals}
}

// Workflow tool names (handled in workflows/conversation.go).
const (
	ToolAdvanceStage       = "advance_stage"
	ToolSetLanguage        = "set_language"
	ToolRecordRequirements = "record_requirements"
	ToolEscalate           = "escalate_to_manager"
	ToolSearchProducts     = "search_products"
	ToolGetStock           = "get_stock"
	ToolSearchKnowledge    = "search_knowledge"
)

// coreWorkflowTools are the tools whose effect is on the conversation's state.
func coreWorkflowTools() []Tool {
	return []Tool{
		{Name: ToolAdvanceStage, Workflow: true,
			Description: "Move the sales stage when the conversation has moved on (greeting → qualifying → needs_analysis → solution → company_details → quoting → closing).",
			Parameters:  obj(map[string]any{"stage": enum("the new stage", "greeting", "qualifying", "needs_analysis", "solution", "company_details", "quoting", "closing", "feedback")}, "stage")},
		{Name: ToolSetLanguage, Workflow: true,
			Description: "Switch the reply language when the customer writes in, or asks for, another language.",
			Parameters:  obj(map[string]any{"language": enum("en or ar", "en", "ar")}, "language")},
		{Name: ToolRecordRequirements, Workflow: true,
			Description: "Save what you learned about the customer and the need, so nobody asks again.",
			Parameters: obj(map[string]any{
				"name": str("customer's name"), "company": str("company name"), "is_individual": map[string]any{"type": "boolean"},
				"role": str("job title"), "email": str("e-mail"), "company_activity": str("what the company does"),
				"needs": str("the need in one sentence"), "items": map[string]any{"type": "array", "items": obj(map[string]any{"sku": str("SKU or product"), "qty": num("quantity")})},
				"headcount": num("people to seat"), "budget": str("budget as stated"), "needed_by": str("timeline"),
				"delivery_address": str("specific delivery address"),
			})},
		{Name: ToolEscalate, Workflow: true,
			Description: "Hand the chat to a human manager (explicit request for a person, complaint, return, legal issue, non-standard terms, a confirmed order above the threshold, drawings or floor plans). Do not write a reply when you call it.",
			Parameters: obj(map[string]any{
				"reason": str("why, in one sentence, for the manager"),
				"kind":   enum("the trigger", "human_request", "complaint", "return", "legal", "aggression", "non_standard_terms", "large_order", "drawings", "other"),
			}, "reason", "kind")},
	}
}
