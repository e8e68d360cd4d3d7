package bench

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
)

// Kind names a family of generated payload data.
type Kind string

// The corpus. Every kind but Random is JSON, in the shapes the example
// agent's payloads take.
const (
	// Agent is a chat transcript: user, assistant and tool messages, with
	// tool calls whose arguments are JSON strings.
	Agent Kind = "agent"
	// Market is a feed of quotes: symbol, prices, volume, moving averages.
	Market Kind = "market"
	// Orders is a blotter of orders with their fills.
	Orders Kind = "orders"
	// JSON interleaves Agent, Market and Orders records; it is the corpus
	// the benchmarks use unless they say otherwise.
	JSON Kind = "json"
	// Random is bytes from a seeded ChaCha8 stream: incompressible.
	Random Kind = "random"
)

// Kinds returns every kind, JSON ones first.
func Kinds() []Kind { return []Kind{JSON, Agent, Market, Orders, Random} }

// Data returns size bytes of kind, the same bytes on every call, machine and
// Go release. For the JSON kinds the bytes are one JSON array when size is
// at least 32, a JSON string when it is 2 to 31, and spaces below that. It
// panics for an unknown kind or a negative size: the corpus is fixed by the
// benchmarks, not by input.
func Data(kind Kind, size int) []byte {
	if size < 0 {
		panic(fmt.Sprintf("bench: negative size %d", size))
	}
	g := newGenerator(kind)
	if kind == Random {
		b := make([]byte, size)
		_, _ = g.chacha.Read(b) // ChaCha8.Read never fails
		return b
	}
	var next func() any
	switch kind {
	case Agent:
		next = g.message
	case Market:
		next = g.quote
	case Orders:
		next = g.order
	case JSON:
		i := 0
		record := []func() any{g.message, g.quote, g.order}
		next = func() any { i++; return record[i%3]() }
	default:
		panic(fmt.Sprintf("bench: unknown corpus kind %q", kind))
	}
	return g.array(size, next)
}

// Payload returns a payload carrying Data(kind, size) with the metadata the
// SDK's default converter writes: encoding json/plain, or binary/plain for
// Random.
func Payload(kind Kind, size int) *commonpb.Payload {
	enc := "json/plain"
	if kind == Random {
		enc = "binary/plain"
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte(enc)},
		Data:     Data(kind, size),
	}
}

type generator struct {
	rng    *rand.Rand
	chacha *rand.ChaCha8
	n      int // records made, for IDs
	clock  time.Time
}

func newGenerator(kind Kind) *generator {
	h := fnv.New64a()
	h.Write([]byte(kind))
	seed := h.Sum64()
	var key [32]byte
	for i := range key {
		key[i] = byte(seed >> (8 * (i % 8)))
	}
	return &generator{
		rng:    rand.New(rand.NewPCG(seed, 0x7e3c0de)),
		chacha: rand.NewChaCha8(key),
		clock:  time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC),
	}
}

// fillerLen is the length of a filler record with empty content.
var fillerLen = len(`{"role":"user","content":""}`)

// array appends records from next to a JSON array while they fit, then
// one user message whose content makes the array exactly size bytes.
func (g *generator) array(size int, next func() any) []byte {
	if size < 2+fillerLen+2 {
		return g.jsonString(size)
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for {
		rec, err := json.Marshal(next())
		if err != nil {
			panic(err) // only plain structs are marshalled
		}
		// Leave room for the comma, a filler record with a few words of
		// content, and the closing bracket.
		if len(b)+len(rec)+1+fillerLen+8+1 > size {
			break
		}
		b = append(b, rec...)
		b = append(b, ',')
	}
	text := g.text(size - len(b) - fillerLen - 1)
	b = append(b, `{"role":"user","content":"`...)
	b = append(b, text...)
	b = append(b, `"}]`...)
	return b
}

// jsonString returns a JSON string of exactly size bytes, or spaces if
// size is below 2.
func (g *generator) jsonString(size int) []byte {
	if size < 2 {
		return []byte("  "[:size])
	}
	b := make([]byte, 0, size)
	b = append(b, '"')
	b = append(b, g.text(size-2)...)
	return append(b, '"')
}

var words = strings.Fields(`the a of to and in for on with at by from is was
	will should buy sell hold rebalance position portfolio account cash risk
	limit order market price momentum trend volume spread exposure sector
	technology energy healthcare conservative aggressive target weight
	allocation drawdown volatility average moving crossed above below rose
	fell percent shares quantity filled partially pending cancelled review
	analysis suggests considering given current earnings guidance report
	signal strong weak neutral trader prefers long term short term check
	passed failed approved within exceeds maximum minimum daily notional
	liquidity slippage execution venue confirm summary plan next step`)

// text returns exactly n bytes of space-separated words.
func (g *generator) text(n int) string {
	var sb strings.Builder
	sb.Grow(n + 16)
	for sb.Len() < n {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		if g.rng.IntN(9) == 0 {
			sb.WriteString(symbols[g.rng.IntN(len(symbols))])
		} else {
			sb.WriteString(words[g.rng.IntN(len(words))])
		}
	}
	return sb.String()[:n]
}

func (g *generator) sentence(minWords, maxWords int) string {
	n := minWords + g.rng.IntN(maxWords-minWords+1)
	parts := make([]string, n)
	for i := range parts {
		switch g.rng.IntN(12) {
		case 0:
			parts[i] = symbols[g.rng.IntN(len(symbols))]
		case 1:
			parts[i] = strconv.FormatFloat(float64(g.rng.IntN(100000))/100, 'f', 2, 64)
		default:
			parts[i] = words[g.rng.IntN(len(words))]
		}
	}
	s := strings.Join(parts, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

var symbols = []string{"AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "TSLA", "JPM", "XOM", "UNH"}

var names = map[string]string{
	"AAPL": "Apple", "AMZN": "Amazon", "GOOGL": "Alphabet", "META": "Meta Platforms",
	"MSFT": "Microsoft", "NVDA": "NVIDIA", "TSLA": "Tesla", "JPM": "JPMorgan Chase",
	"XOM": "Exxon Mobil", "UNH": "UnitedHealth",
}

var tools = []string{"get_trader_info", "get_market_data", "get_positions",
	"analyze_portfolio", "check_risk", "place_order"}

type toolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

func (g *generator) callID() string {
	return fmt.Sprintf("call_%06d", g.n)
}

func (g *generator) message() any {
	g.n++
	switch g.rng.IntN(4) {
	case 0:
		var sb strings.Builder
		for range 1 + g.rng.IntN(3) {
			sb.WriteString(g.sentence(8, 20))
			sb.WriteByte(' ')
		}
		return message{Role: "user", Content: strings.TrimSpace(sb.String())}
	case 1:
		sym := symbols[g.rng.IntN(len(symbols))]
		args, _ := json.Marshal(map[string]any{"symbols": []string{sym}, "lookback_days": 20})
		return message{Role: "assistant", Content: g.sentence(6, 14), ToolCalls: []toolCall{
			{ID: g.callID(), Name: tools[g.rng.IntN(len(tools))], Arguments: string(args)},
		}}
	case 2:
		res, _ := json.Marshal(g.quote())
		return message{Role: "tool", ToolCallID: g.callID(), Content: string(res)}
	default:
		var sb strings.Builder
		for range 2 + g.rng.IntN(4) {
			sb.WriteString(g.sentence(10, 24))
			sb.WriteByte(' ')
		}
		return message{Role: "assistant", Content: strings.TrimSpace(sb.String())}
	}
}

type quote struct {
	Symbol    string  `json:"symbol"`
	Name      string  `json:"name"`
	Time      string  `json:"ts"`
	Bid       float64 `json:"bid"`
	Ask       float64 `json:"ask"`
	Last      float64 `json:"last"`
	Volume    int     `json:"volume"`
	ChangePct float64 `json:"change_pct"`
	SMA5      float64 `json:"sma5"`
	SMA20     float64 `json:"sma20"`
}

func cents(x float64) float64 { return float64(int64(x*100)) / 100 }

func (g *generator) quote() any {
	g.n++
	g.clock = g.clock.Add(time.Duration(1+g.rng.IntN(900)) * time.Millisecond)
	sym := symbols[g.rng.IntN(len(symbols))]
	last := 50 + float64(g.rng.IntN(90000))/100
	return quote{
		Symbol:    sym,
		Name:      names[sym],
		Time:      g.clock.Format(time.RFC3339Nano),
		Bid:       cents(last - 0.01*float64(1+g.rng.IntN(5))),
		Ask:       cents(last + 0.01*float64(1+g.rng.IntN(5))),
		Last:      cents(last),
		Volume:    100 * (1 + g.rng.IntN(5000)),
		ChangePct: cents(g.rng.NormFloat64() * 1.5),
		SMA5:      cents(last * (1 + g.rng.NormFloat64()*0.01)),
		SMA20:     cents(last * (1 + g.rng.NormFloat64()*0.03)),
	}
}

type fill struct {
	Quantity int     `json:"qty"`
	Price    float64 `json:"price"`
	Venue    string  `json:"venue"`
	Time     string  `json:"ts"`
}

type order struct {
	ID          string  `json:"order_id"`
	Account     string  `json:"account"`
	Symbol      string  `json:"symbol"`
	Side        string  `json:"side"`
	Type        string  `json:"type"`
	Quantity    int     `json:"quantity"`
	LimitPrice  float64 `json:"limit_price,omitempty"`
	TimeInForce string  `json:"time_in_force"`
	Status      string  `json:"status"`
	Submitted   string  `json:"submitted_at"`
	Fills       []fill  `json:"fills"`
}

var venues = []string{"XNAS", "XNYS", "ARCX", "BATS", "IEXG"}

func (g *generator) order() any {
	g.n++
	g.clock = g.clock.Add(time.Duration(1+g.rng.IntN(5000)) * time.Millisecond)
	o := order{
		ID:          fmt.Sprintf("ORD-2026-%06d", g.n),
		Account:     fmt.Sprintf("ACCT-%04d-%02d", 1000+g.rng.IntN(9000), g.rng.IntN(100)),
		Symbol:      symbols[g.rng.IntN(len(symbols))],
		Side:        []string{"buy", "sell"}[g.rng.IntN(2)],
		Type:        []string{"market", "limit"}[g.rng.IntN(2)],
		Quantity:    1 + g.rng.IntN(500),
		TimeInForce: "day",
		Status:      []string{"filled", "partially_filled", "pending", "cancelled"}[g.rng.IntN(4)],
		Submitted:   g.clock.Format(time.RFC3339Nano),
		Fills:       []fill{},
	}
	price := 50 + float64(g.rng.IntN(90000))/100
	if o.Type == "limit" {
		o.LimitPrice = cents(price)
	}
	left := o.Quantity
	for left > 0 && o.Status != "pending" && o.Status != "cancelled" {
		q := 1 + g.rng.IntN(left)
		o.Fills = append(o.Fills, fill{
			Quantity: q,
			Price:    cents(price + g.rng.NormFloat64()*0.05),
			Venue:    venues[g.rng.IntN(len(venues))],
			Time:     g.clock.Add(time.Duration(g.rng.IntN(2000)) * time.Millisecond).Format(time.RFC3339Nano),
		})
		left -= q
		if o.Status == "partially_filled" {
			break
		}
	}
	return o
}
