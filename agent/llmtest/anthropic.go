package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/temporal-encryption/temporal-encryption/agent"
)

// The messages wire format, as much of it as the agent uses.
type (
	msgRequest struct {
		Model     string          `json:"model"`
		MaxTokens int             `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []msgMessage    `json:"messages"`
		Tools     []msgTool       `json:"tools"`
		Stream    bool            `json:"stream"`
	}
	msgMessage struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	msgBlock struct {
		Type      string          `json:"type"`
		Text      string          `json:"text,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Input     json.RawMessage `json:"input,omitempty"`
		ToolUseID string          `json:"tool_use_id,omitempty"`
		Content   json.RawMessage `json:"content,omitempty"`
		IsError   bool            `json:"is_error,omitempty"`
	}
	msgTool struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
	msgResponse struct {
		ID           string     `json:"id"`
		Type         string     `json:"type"`
		Role         string     `json:"role"`
		Model        string     `json:"model"`
		Content      []msgBlock `json:"content"`
		StopReason   string     `json:"stop_reason"`
		StopSequence *string    `json:"stop_sequence"`
		Usage        struct {
			Input  int `json:"input_tokens"`
			Output int `json:"output_tokens"`
		} `json:"usage"`
	}
)

func anthropicError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": kind, "message": msg}})
}

func anthropicFaultBody(status int) string {
	kind := "api_error"
	switch {
	case status == http.StatusTooManyRequests:
		kind = "rate_limit_error"
	case status == 529:
		kind = "overloaded_error"
	case status == http.StatusUnauthorized:
		kind = "authentication_error"
	case status < 500:
		kind = "invalid_request_error"
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{
		"type": kind, "message": fmt.Sprintf("fake fault %d", status)}})
	return string(b)
}

func (s *Server) anthropic(w http.ResponseWriter, r *http.Request) {
	body, fault, err := s.begin(r)
	if fault != nil {
		writeFault(w, fault, func() string { return anthropicFaultBody(fault.Status) })
		return
	}
	if r.Method != http.MethodPost {
		anthropicError(w, http.StatusMethodNotAllowed, "invalid_request_error", "POST only")
		return
	}
	given := r.Header.Get("X-Api-Key")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && given == "" {
		given = bearer
	}
	if given != s.key {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key: "+given)
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version header is required")
		return
	}
	if err != nil {
		anthropicError(w, http.StatusRequestEntityTooLarge, "request_too_large", err.Error())
		return
	}

	var req msgRequest
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "request body is not valid JSON")
		return
	}
	creq, err := req.toAgent()
	if err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	resp, err := s.model.Complete(r.Context(), creq)
	if err != nil {
		anthropicError(w, http.StatusInternalServerError, "api_error", "Internal server error")
		return
	}

	out := msgResponse{Type: "message", Role: "assistant", Model: req.Model, StopReason: "end_turn"}
	if resp.Message.Content != "" {
		out.Content = append(out.Content, msgBlock{Type: "text", Text: resp.Message.Content})
	}
	for _, c := range resp.Message.ToolCalls {
		args := c.Arguments
		if args == "" {
			args = "{}"
		}
		out.Content = append(out.Content, msgBlock{Type: "tool_use", ID: c.ID, Name: c.Name, Input: json.RawMessage(args)})
		out.StopReason = "tool_use"
	}
	s.done()
	out.ID = fmt.Sprintf("msg_fake_%d", s.Answered())
	out.Usage.Input, out.Usage.Output = tokens(len(body)), tokens(len(resp.Message.Content))
	writeJSON(w, http.StatusOK, out)
}

// toAgent checks the request the way the real service does and converts
// it: the first message is the user's, every tool_result answers a
// tool_use of the message before it, and every tool_use is answered in
// the next message.
func (req *msgRequest) toAgent() (agent.CompletionRequest, error) {
	var out agent.CompletionRequest
	if req.Model == "" || req.MaxTokens <= 0 {
		return out, fmt.Errorf("model and max_tokens: field required")
	}
	if req.Stream {
		return out, fmt.Errorf("this fake does not stream")
	}
	if len(req.Messages) == 0 || req.Messages[0].Role != "user" {
		return out, fmt.Errorf("messages: first message must use the \"user\" role")
	}
	if sys, err := text(req.System); err != nil {
		return out, fmt.Errorf("system: %v", err)
	} else if sys != "" {
		out.Messages = append(out.Messages, agent.Message{Role: agent.RoleSystem, Content: sys})
	}

	var open map[string]bool // tool_use IDs of the previous assistant message
	for i, m := range req.Messages {
		blocks, err := msgBlocks(m.Content)
		if err != nil {
			return out, fmt.Errorf("messages.%d.content: %v", i, err)
		}
		switch m.Role {
		case "assistant":
			if len(open) > 0 {
				return out, fmt.Errorf("messages.%d: tool_use ids were found without tool_result blocks", i)
			}
			msg := agent.Message{Role: agent.RoleAssistant}
			open = map[string]bool{}
			for j, b := range blocks {
				switch b.Type {
				case "text":
					msg.Content += b.Text
				case "tool_use":
					var obj map[string]any
					if b.ID == "" || b.Name == "" || json.Unmarshal(b.Input, &obj) != nil {
						return out, fmt.Errorf("messages.%d.content.%d: invalid tool_use", i, j)
					}
					open[b.ID] = true
					msg.ToolCalls = append(msg.ToolCalls, agent.ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)})
				default:
					return out, fmt.Errorf("messages.%d.content.%d: unexpected block %q", i, j, b.Type)
				}
			}
			out.Messages = append(out.Messages, msg)
		case "user":
			for j, b := range blocks {
				switch b.Type {
				case "text":
					out.Messages = append(out.Messages, agent.Message{Role: agent.RoleUser, Content: b.Text})
				case "tool_result":
					if !open[b.ToolUseID] {
						return out, fmt.Errorf("messages.%d.content.%d: unexpected tool_use_id found in "+
							"tool_result blocks: %s", i, j, b.ToolUseID)
					}
					delete(open, b.ToolUseID)
					content, err := text(b.Content)
					if err != nil {
						return out, fmt.Errorf("messages.%d.content.%d.content: %v", i, j, err)
					}
					out.Messages = append(out.Messages, agent.Message{Role: agent.RoleTool,
						ToolCallID: b.ToolUseID, Content: content})
				default:
					return out, fmt.Errorf("messages.%d.content.%d: unexpected block %q", i, j, b.Type)
				}
			}
			if len(open) > 0 {
				return out, fmt.Errorf("messages.%d: tool_use ids were found without tool_result blocks", i)
			}
			open = nil
		default:
			return out, fmt.Errorf("messages.%d.role: invalid role %q", i, m.Role)
		}
	}
	if len(open) > 0 {
		return out, fmt.Errorf("the last message's tool_use ids have no tool_result blocks")
	}
	for i, t := range req.Tools {
		var schema map[string]any
		if t.Name == "" || json.Unmarshal(t.InputSchema, &schema) != nil || schema["type"] != "object" {
			return out, fmt.Errorf("tools.%d: invalid tool", i)
		}
		out.Tools = append(out.Tools, agent.ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	return out, nil
}

// msgBlocks reads content that is either a string or a list of blocks.
func msgBlocks(raw json.RawMessage) ([]msgBlock, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []msgBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []msgBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("neither a string nor a list of blocks")
	}
	return blocks, nil
}
