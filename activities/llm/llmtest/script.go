package llmtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// NoRuleContent answers a request that no rule of Rules matched: visible in a transcript,
// never a hang.
const NoRuleContent = "OK (llmtest: no rule matched)"

// Rule answers a request when Match returns true; a nil Match matches every request.
type Rule struct {
	Match func(ChatRequest) bool
	Reply func(ChatRequest) Reply
}

// Rules returns a handler for Server.Handle: the first rule whose Match returns true answers.
func Rules(rules ...Rule) func(ChatRequest) Reply {
	return func(r ChatRequest) Reply {
		for _, rule := range rules {
			if rule.Match == nil || rule.Match(r) {
				return rule.Reply(r)
			}
		}
		return Reply{Content: NoRuleContent}
	}
}

// Say is a Rule.Reply that answers a fixed text.
func Say(content string) func(ChatRequest) Reply {
	return func(ChatRequest) Reply { return Reply{Content: content} }
}

// CallTools is a Rule.Reply that answers with the given tool calls.
func CallTools(calls ...ToolCall) func(ChatRequest) Reply {
	return func(ChatRequest) Reply { return Reply{ToolCalls: calls} }
}

// Call builds a tool call whose arguments are args encoded as JSON (a string or []byte is
// taken as JSON text as is).
func Call(name string, args any) ToolCall {
	switch a := args.(type) {
	case string:
		return ToolCall{Name: name, Arguments: a}
	case []byte:
		return ToolCall{Name: name, Arguments: string(a)}
	}
	b, err := json.Marshal(args)
	if err != nil {
		panic(fmt.Sprintf("llmtest.Call(%q): encode arguments: %v", name, err))
	}
	return ToolCall{Name: name, Arguments: string(b)}
}

// UserSays matches a request whose last user message contains substr (case-insensitive).
func UserSays(substr string) func(ChatRequest) bool {
	return func(r ChatRequest) bool {
		return strings.Contains(strings.ToLower(r.LastUserText()), strings.ToLower(substr))
	}
}

// SystemContains matches a request whose system prompt contains substr.
func SystemContains(substr string) func(ChatRequest) bool {
	return func(r ChatRequest) bool { return strings.Contains(r.System(), substr) }
}

// OffersTool reports whether the request offers a tool with this name.
func OffersTool(r ChatRequest, toolName string) bool {
	for _, t := range r.Tools {
		if t.Name == toolName {
			return true
		}
	}
	return false
}

// HasToolResult reports whether a "tool" message answers a call of toolName.
func HasToolResult(r ChatRequest, toolName string) bool {
	_, ok := toolResult(r, toolName)
	return ok
}

// ToolResult returns the content of the last "tool" message answering a call of toolName.
func ToolResult(r ChatRequest, toolName string) string {
	content, _ := toolResult(r, toolName)
	return content
}

func toolResult(r ChatRequest, toolName string) (string, bool) {
	ids := map[string]bool{}
	content, found := "", false
	for _, m := range r.Messages {
		switch m.Role {
		case "assistant":
			for _, tc := range m.ToolCalls {
				if tc.Name == toolName {
					ids[tc.ID] = true
				}
			}
		case "tool":
			if ids[m.ToolCallID] {
				content, found = m.Content, true
			}
		}
	}
	return content, found
}
