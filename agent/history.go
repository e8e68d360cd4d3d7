package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Bounds on the conversation and on the workflow's history. Everything the
// model sees is an activity input recorded in history, and is sent again on
// every turn; Temporal refuses a payload over 2 MiB (and warns at 512 KiB)
// and a history over 51,200 events or 50 MiB. These keep a long session
// far from those limits.
const (
	// MaxToolResultBytes caps one tool message. A larger result is
	// replaced by an error saying so; the agent's own tools stay under it.
	MaxToolResultBytes = 16 << 10

	// DefaultConversationBytes is the default of
	// [Request.MaxConversationBytes]; the range is MinConversationBytes to
	// MaxConversationBytes.
	DefaultConversationBytes = 256 << 10
	MinConversationBytes     = 8 << 10
	MaxConversationBytes     = 1 << 20

	// DefaultContinueAsNewEvents is the default of
	// [Request.ContinueAsNewAfter]; MaxContinueAsNewEvents is its maximum.
	DefaultContinueAsNewEvents = 2_000
	MaxContinueAsNewEvents     = 40_000
)

// Continuation is the state one run of [TradingWorkflow] hands to the next
// when it continues as new. It travels as part of the next run's input, so
// it is encrypted like the rest; it is bounded by the conversation budget.
type Continuation struct {
	// Step is the number of model turns taken so far, in all runs. Order
	// IDs derive from it, so they stay unique across runs.
	Step int `json:"step"`

	// Runs is the number of runs before this one.
	Runs int `json:"runs"`

	// Messages is the conversation, already trimmed to its budget.
	Messages []Message `json:"messages"`

	// Trimmed counts messages dropped from the conversation so far, and
	// ToolTally the tool calls among them, by tool name.
	Trimmed   int            `json:"trimmed,omitempty"`
	ToolTally map[string]int `json:"tool_tally,omitempty"`

	// Account is the account after the trades so far.
	Account Account `json:"account"`

	// Approved are check_risk approvals no trade has used yet.
	Approved []RiskDecision `json:"approved,omitempty"`

	// Result is the result so far: trades, approvals and counts.
	Result Result `json:"result"`
}

func (c *Continuation) validate(maxSteps int) error {
	if c.Step < 0 || c.Step > maxSteps || c.Runs < 0 {
		return fmt.Errorf("agent: continuation at step %d of %d", c.Step, maxSteps)
	}
	if len(c.Messages) < 2 || c.Messages[0].Role != RoleSystem || c.Messages[1].Role != RoleUser {
		return fmt.Errorf("agent: continuation holds no conversation")
	}
	return c.Account.validate()
}

// shouldContinueAsNew reports whether this run has done its share: the
// server suggests it, or history has reached the request's threshold. A
// run always takes at least one turn, so a threshold set below what one
// turn needs still makes progress.
func (s *session) shouldContinueAsNew(ctx workflow.Context) bool {
	if s.runSteps == 0 {
		return false
	}
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= s.canAfter
}

// continuation returns what the next run needs.
func (s *session) continuation() *Continuation {
	return &Continuation{
		Step:      s.step,
		Runs:      s.runs + 1,
		Messages:  s.msgs,
		Trimmed:   s.trimmed,
		ToolTally: s.toolTally,
		Account:   s.account,
		Approved:  s.approved,
		Result:    s.result,
	}
}

// messageSize estimates what m adds to a request: its text and a little
// for the framing.
func messageSize(m Message) int {
	n := 16 + len(m.Content) + len(m.ToolCallID)
	for _, c := range m.ToolCalls {
		n += 16 + len(c.ID) + len(c.Name) + len(c.Arguments)
	}
	return n
}

func conversationSize(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += messageSize(m)
	}
	return n
}

// summaryPrefix opens the message that stands in for trimmed turns.
const summaryPrefix = "[Summary of earlier turns, removed to keep the conversation short] "

// trim keeps the conversation under the budget. It keeps the system
// prompt and the user's request, drops the oldest whole turns (an
// assistant message and the tool messages answering it), never the latest
// turn, and puts one message in their place saying what they did and what
// the account looks like now. The summary is written by the workflow from
// its own state, so it is deterministic and costs no model call.
func (s *session) trim() {
	if conversationSize(s.msgs) <= s.budget {
		return
	}
	head := 2
	if len(s.msgs) > 2 && s.msgs[2].Role == RoleUser && strings.HasPrefix(s.msgs[2].Content, summaryPrefix) {
		head = 3 // the previous summary is rewritten
	}
	body := s.msgs[head:]
	var starts []int // where each turn begins in body
	for i, m := range body {
		if m.Role == RoleAssistant {
			starts = append(starts, i)
		}
	}
	if len(starts) < 2 {
		return // only the latest turn is left
	}

	fixed := conversationSize(s.msgs[:2]) + 2<<10 // room for the summary
	cut := starts[len(starts)-1]
	for _, st := range starts[1:] {
		if fixed+conversationSize(body[st:]) <= s.budget {
			cut = st
			break
		}
	}
	dropped := body[:cut]
	s.trimmed += len(dropped)
	calls := map[string]int{}
	for _, m := range dropped {
		for _, c := range m.ToolCalls {
			calls[c.Name]++
		}
	}
	s.toolTally = mergeTally(s.toolTally, calls)

	kept := slices.Clone(body[cut:])
	s.msgs = append(append(s.msgs[:2:2], Message{Role: RoleUser, Content: s.summary()}), kept...)
}

func mergeTally(a, b map[string]int) map[string]int {
	if a == nil {
		a = make(map[string]int, len(b))
	}
	for k, v := range b {
		a[k] += v
	}
	return a
}

// summary describes the trimmed turns and the state now, in a fixed order.
func (s *session) summary() string {
	var b strings.Builder
	b.WriteString(summaryPrefix)
	fmt.Fprintf(&b, "%d earlier messages were removed.", s.trimmed)
	names := make([]string, 0, len(s.toolTally))
	for n := range s.toolTally {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 0 {
		b.WriteString(" Tools they called:")
		for i, n := range names {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&b, "%s %s ×%d", sep, clip(n, maxToolNameSize), s.toolTally[n])
		}
		b.WriteString(".")
	}
	if len(s.result.Trades) > 0 {
		b.WriteString(" Trades executed so far:")
		for _, f := range s.result.Trades {
			fmt.Fprintf(&b, " %s;", FormatTrade(f))
		}
	}
	fmt.Fprintf(&b, " Account %s now holds cash %s", s.account.ID, money(s.account.Cash))
	for _, p := range s.account.Positions {
		fmt.Fprintf(&b, ", %d %s", p.Quantity, p.Symbol)
	}
	b.WriteString(". Call the tools again for anything else you need.")
	return b.String()
}

// toolContent is the tool message for a call: its JSON result, or an
// error. A result over MaxToolResultBytes becomes an error.
func toolContent(p *pending) string {
	var v any = p.result
	if p.err != nil {
		v = toolError{Error: clip(errorText(p.err), 2<<10)}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(toolError{Error: "agent: result not encodable"})
	}
	if len(b) > MaxToolResultBytes {
		b, _ = json.Marshal(toolError{Error: fmt.Sprintf(
			"agent: result of %d bytes is over the %d-byte limit; ask for less", len(b), MaxToolResultBytes)})
	}
	return string(b)
}
