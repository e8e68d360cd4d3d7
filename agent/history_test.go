package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// turn is one assistant message with n tool calls and their answers, each
// about size bytes.
func turn(k, n, size int) []Message {
	a := Message{Role: RoleAssistant}
	var tools []Message
	for i := range n {
		id := fmt.Sprintf("c%d_%d", k, i)
		a.ToolCalls = append(a.ToolCalls, ToolCall{ID: id, Name: ToolMarketData, Arguments: `{"symbols":["SPY"]}`})
		tools = append(tools, Message{Role: RoleTool, ToolCallID: id, Content: strings.Repeat("x", size)})
	}
	return append([]Message{a}, tools...)
}

func TestTrim(t *testing.T) {
	s := &session{budget: 16 << 10, account: Account{ID: "ACCT-9", Cash: 12.5}}
	s.msgs = []Message{{Role: RoleSystem, Content: SystemPrompt}, {Role: RoleUser, Content: "go"}}
	for k := range 10 {
		s.msgs = append(s.msgs, turn(k, 2, 1500)...)
		s.trim()
		if size := conversationSize(s.msgs); size > s.budget {
			t.Fatalf("after turn %d: %d bytes, budget %d", k, size, s.budget)
		}
		checkStructure(t, s.msgs)
	}
	if s.trimmed == 0 || !strings.HasPrefix(s.msgs[2].Content, summaryPrefix) {
		t.Fatalf("nothing was trimmed, or no summary: %d trimmed", s.trimmed)
	}
	if s.msgs[0].Content != SystemPrompt || s.msgs[1].Content != "go" {
		t.Error("the system prompt or the request was trimmed")
	}
	sum := s.msgs[2].Content
	for _, want := range []string{fmt.Sprintf("%d earlier messages", s.trimmed), "get_market_data ×",
		"ACCT-9", "$12.50"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q: %s", want, sum)
		}
	}
	if got := s.toolTally[ToolMarketData]; got*3 != s.trimmed*2 {
		t.Errorf("tally %d market-data calls for %d trimmed messages, want 2 in 3", got, s.trimmed)
	}
	// The latest turn is never dropped, even when it alone is over budget.
	s.msgs = append(s.msgs, turn(99, 3, 8000)...)
	s.trim()
	if last := s.msgs[len(s.msgs)-4]; last.Role != RoleAssistant || last.ToolCalls[0].ID != "c99_0" {
		t.Errorf("the latest turn was cut: %+v", last)
	}
}

// checkStructure checks what chat APIs require: every tool message answers
// a call of the assistant message before it.
func checkStructure(t *testing.T, msgs []Message) {
	t.Helper()
	open := map[string]bool{}
	for i, m := range msgs {
		switch m.Role {
		case RoleAssistant:
			open = map[string]bool{}
			for _, c := range m.ToolCalls {
				open[c.ID] = true
			}
		case RoleTool:
			if !open[m.ToolCallID] {
				t.Fatalf("message %d answers %s, which no kept assistant message asked for", i, m.ToolCallID)
			}
		}
	}
}

func TestToolContentIsBounded(t *testing.T) {
	big := MarketData{Unknown: []string{strings.Repeat("Z", MaxToolResultBytes)}}
	got := toolContent(&pending{result: &big})
	var te toolError
	if len(got) > MaxToolResultBytes || json.Unmarshal([]byte(got), &te) != nil || !strings.Contains(te.Error, "limit") {
		t.Errorf("toolContent of a huge result = %.100s (%d bytes), want a short error", got, len(got))
	}
}

func TestRequestValidatesBounds(t *testing.T) {
	for _, change := range []func(*Request){
		func(r *Request) { r.ApprovalTimeout = -1 },
		func(r *Request) { r.ApprovalTimeout = MaxApprovalTimeout + 1 },
		func(r *Request) { r.MaxConversationBytes = MinConversationBytes - 1 },
		func(r *Request) { r.MaxConversationBytes = MaxConversationBytes + 1 },
		func(r *Request) { r.ContinueAsNewAfter = -1 },
		func(r *Request) { r.Limits.ApprovalNotional = -1 },
		func(r *Request) { r.Continued = &Continuation{} },
	} {
		r := demoRequest()
		change(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", r)
		}
	}
}

// chatty asks for market data on every symbol for a number of turns, then
// answers, and records the largest conversation it was sent.
type chatty struct {
	turns   int
	calls   int
	largest int
}

func (c *chatty) Complete(_ context.Context, req CompletionRequest) (CompletionResponse, error) {
	c.largest = max(c.largest, conversationSize(req.Messages))
	turn := c.calls // trimming drops turns, so the model counts its own calls
	c.calls++
	if turn >= c.turns {
		return CompletionResponse{Message: Message{Role: RoleAssistant, Content: "done"}}, nil
	}
	syms, _ := json.Marshal(MarketDataArgs{Symbols: NewMarket(1).Symbols()})
	return CompletionResponse{Message: Message{Role: RoleAssistant, ToolCalls: []ToolCall{
		{ID: fmt.Sprintf("m%d", turn), Name: ToolMarketData, Arguments: string(syms)},
	}}}, nil
}

func TestWorkflowKeepsConversationInBudget(t *testing.T) {
	m := &chatty{turns: 6}
	h := newHarness(t, m, PaperBrokerOptions{})
	req := demoRequest()
	req.MaxConversationBytes = MinConversationBytes
	res, err := h.run(t, req)
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if res.Answer != "done" || res.ModelCalls != 7 {
		t.Errorf("answer %q after %d model calls, want done after 7", res.Answer, res.ModelCalls)
	}
	if m.largest > MinConversationBytes {
		t.Errorf("the model was sent %d bytes, budget %d", m.largest, MinConversationBytes)
	}
}
