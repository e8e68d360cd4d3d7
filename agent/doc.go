// Package agent is an example application: an AI trading agent that runs as
// a Temporal workflow, with every model call and every tool call made as its
// own activity.
//
// It exists to give the encryption something worth protecting. Its inputs
// and results carry an account ID, the owner's name, positions, cash and
// order details, and all of them travel through Temporal as payloads. The
// package knows nothing about encryption: the caller chooses the data
// converter on the client, exactly as a user of this project would (see
// cmd/worker and cmd/starter).
//
// # Shape
//
// [TradingWorkflow] holds a chat-completions style conversation. Each turn
// it calls [Activities.CallModel] with the messages so far and the tool
// specs from [Tools]; the [Model] answers with tool calls or a final answer.
// Each tool call runs as its own activity:
//
//	get_trader_info     [Activities.GetTraderInfo]     account, cash, limits
//	get_market_data     [Activities.GetMarketData]     quotes and signals
//	analyze_portfolio   [Activities.AnalyzePortfolio]  weights and P&L
//	check_risk          [Activities.CheckRisk]         approve or reject
//	execute_trade       [Activities.ExecuteTrade]      fill at the broker
//
// Read-only tools of one turn run concurrently; trades run one at a time,
// in the order the model asked for them.
//
// The default model, [RulePlanner], is deterministic and offline: it reads
// the prompt and the tool results and plans like a cautious trader. A model
// provider with tool calling (an OpenAI-compatible API, say) can implement
// [Model] instead without touching the workflow.
//
// # Trading safeguards
//
// The workflow, not the model, owns the account. It refuses a trade that
// no earlier check_risk approved with the same symbol, side and quantity, a
// buy the cash no longer covers, and a sale of more than is held. Each order
// ID is derived from the workflow ID, the turn and the call's position in
// it, so an activity retry or a replayed workflow task reaches the
// [PaperBroker] with the same ID and never trades twice.
//
// # Determinism
//
// The workflow code uses no clock, randomness, map iteration order or I/O;
// everything that varies comes back as an activity result and is recorded
// in history. The [Market] is a seeded simulation, so a given seed and
// request always produce the same trades.
//
// # Limitations
//
// The paper broker and its ledger live in the worker's memory: they are
// lost when the worker stops and are not shared between workers. Money is
// kept as float64 dollars rounded to cents, which is fine for a simulation
// and wrong for a real ledger.
package agent
