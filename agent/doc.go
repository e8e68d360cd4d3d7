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
// the prompt and the tool results and plans like a cautious trader.
// agent/openai (any OpenAI-compatible chat completions API) and
// agent/anthropic implement [Model] for hosted models, and agent/llm picks
// one from configuration. Quotes come from a [MarketFeed]: the seeded
// [Market] simulation by default, or an adapter to a real feed.
//
// # Secrets of the model provider
//
// A provider reads its API key from the worker's environment inside the
// model activity, on every call. The key is in no workflow or activity
// input or result, memo, summary, search attribute or log line of this
// package, and a provider's errors quote neither the key nor the service's
// error text. agent/integration checks this on a real server: it searches
// the raw history for the key and decrypts every payload to search the
// plaintext too.
//
// Providers report failures as Temporal application errors:
// [ErrTypeModelAuth] and [ErrTypeModelRejected] are never retried,
// [ErrTypeModelRateLimited] is retried after the delay the service gave in
// Retry-After, and [ErrTypeModelUnavailable] with backoff. The providers'
// client libraries do not retry on their own, so every attempt is an
// activity attempt, visible in history.
//
// # Human approval
//
// A trade whose value is over [RiskLimits.ApprovalNotional] (10,000 by
// default) waits, before it reaches the broker, for a person's
// [TradeDecision], delivered as the [UpdateDecideTrade] update; the
// [QueryPendingApprovals] query lists what waits, and [Decide] and
// [Pending] are the client side (cmd/starter approve, reject, pending).
// Updates pass through the data converter like any payload, so decisions
// and their reasons are encrypted. A trade with no decision within
// [Request.ApprovalTimeout] (5 minutes by default) is dropped, and the
// model is told why. [Result.Approvals] records every outcome.
//
// # Long conversations
//
// Each tool result is capped at [MaxToolResultBytes]; a model reply's
// answer at 32 KiB and its tool calls at 16 per turn and 8 KiB of
// arguments each. When the conversation grows past
// [Request.MaxConversationBytes], its oldest turns are replaced by a
// summary the workflow writes from its own state. When the history reaches
// [Request.ContinueAsNewAfter] events, or the server suggests it, the
// workflow continues as new between two turns, carrying its state in
// [Request.Continued]; order IDs keep counting turns across runs, so the
// result is the one an unbroken run gives.
//
// # Crashes
//
// Every activity heartbeats each second and has a five-second heartbeat
// timeout, so an activity on a worker that dies is retried elsewhere within
// seconds. Tools that only read are safe to repeat; execute_trade is
// idempotent by order ID, and with [PaperBrokerOptions.LedgerPath] the
// broker keeps its fills on disk, so a worker that replaces a crashed one
// does not trade again. agent/integration kills a worker process right
// after the broker filled an order and checks that the run finishes with
// the result of an uninterrupted one.
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
// Without a ledger file the paper broker's fills live in the worker's
// memory: they are lost when the worker stops. With one, only one worker
// may use it at a time, so the fills are still not shared between workers.
// Money is kept as float64 dollars rounded to cents, which is fine for a
// simulation and wrong for a real ledger.
//
// The [RulePlanner] reads its plan from the conversation: trimmed away, its
// earlier turns are forgotten and it starts over (with the workflow's
// safeguards still in force). Its whole conversation for the demo request
// is about 3 KiB, under the smallest budget allowed (8 KiB). The summary that replaces trimmed turns is plain text for a
// language model.
//
// The names of the update and the query, and the update IDs
// ([DecisionUpdateID], a hash of the order ID), are visible to the server;
// their arguments and results are not.
package agent
