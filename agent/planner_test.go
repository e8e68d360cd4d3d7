package agent

import (
	"context"
	"slices"
	"testing"
)

func TestReadIntent(t *testing.T) {
	tests := []struct {
		name    string
		prompt  string
		tickers []string
		noTrade bool
		sizing  float64
	}{
		{"plain", "Consider adding NVDA and $TSLA.", []string{"NVDA", "TSLA"}, false, 0.10},
		{"stop words and IDs", "I want AI stocks, NOT USD. Account ACCT-7731, ticket REF_9.", nil, false, 0.10},
		{"analysis only", "Analysis only: how is MSFT?", []string{"MSFT"}, true, 0.10},
		{"do not trade", "Please don't trade today", nil, true, 0.10},
		{"conservative", "Be conservative with AAPL, AAPL", []string{"AAPL"}, false, 0.05},
		{"aggressive", "aggressive XOM", []string{"XOM"}, false, 0.15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := readIntent(tt.prompt)
			if !slices.Equal(in.tickers, tt.tickers) || in.noTrade != tt.noTrade || in.sizing != tt.sizing {
				t.Errorf("readIntent(%q) = %+v, want tickers %v, noTrade %v, sizing %v",
					tt.prompt, in, tt.tickers, tt.noTrade, tt.sizing)
			}
		})
	}
}

func TestPlannerStartsWithTraderInfo(t *testing.T) {
	resp, err := RulePlanner{}.Complete(context.Background(), CompletionRequest{Messages: []Message{
		{Role: RoleSystem, Content: SystemPrompt},
		{Role: RoleUser, Content: "buy NVDA"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls
	if resp.FinishReason != FinishToolCalls || len(calls) != 1 || calls[0].Name != ToolTraderInfo {
		t.Errorf("first reply %+v, want one get_trader_info call", resp)
	}

	if _, err := (RulePlanner{}).Complete(context.Background(), CompletionRequest{}); err == nil {
		t.Error("Complete with no user message succeeded, want an error")
	}
}

func TestPlannerAnswersWhenAccountFails(t *testing.T) {
	resp, err := RulePlanner{}.Complete(context.Background(), CompletionRequest{Messages: []Message{
		{Role: RoleUser, Content: "buy NVDA"},
		{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c1", Name: ToolTraderInfo, Arguments: "{}"}}},
		{Role: RoleTool, ToolCallID: "c1", Content: `{"error":"account service down"}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.FinishReason != FinishStop || resp.Message.Content == "" {
		t.Errorf("reply %+v, want a final answer instead of retrying", resp)
	}
}
