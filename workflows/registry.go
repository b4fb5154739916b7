package workflows

// Registration pairs a workflow function with its registered name.
type Registration struct {
	Name string
	Fn   any
}

// All lists every workflow the worker registers, under the names in names.go.
func All() []Registration {
	return []Registration{
		{Name: ConversationWorkflowName, Fn: Conversation},
		{Name: CatalogSyncWorkflowName, Fn: CatalogSync},
		{Name: KnowledgeIndexWorkflow, Fn: KnowledgeIndex},
		{Name: EscalationWorkflowName, Fn: EscalationWorkflow},
		{Name: FollowUpWorkflowName, Fn: FollowUpWorkflow},
	}
}
