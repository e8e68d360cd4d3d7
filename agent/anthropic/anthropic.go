package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/internal/modelerr"
)

// Defaults of [Options].
const (
	DefaultBaseURL   = "https://api.anthropic.com"
	DefaultAPIKeyEnv = "ANTHROPIC_API_KEY"
	DefaultMaxTokens = 4096
)

const provider = "anthropic"

// Options configure a [Model]. None of them is secret.
type Options struct {
	// BaseURL is the API's address, without "/v1". Default
	// DefaultBaseURL. Must be an absolute http or https URL without user
	// information.
	BaseURL string

	// Model is the model name, such as "claude-sonnet-4-5". Required.
	Model string

	// APIKeyEnv names the environment variable that holds the API key.
	// Default DefaultAPIKeyEnv. It must be set when [New] runs and is read
	// again on every call.
	APIKeyEnv string

	// MaxTokens caps the tokens of each reply; the API requires one.
	// Default DefaultMaxTokens; range 1 to 64,000.
	MaxTokens int64

	// MaxRetryDelay caps the delay a 429's Retry-After can ask for.
	// Default 5 minutes; range 1 second to 1 hour.
	MaxRetryDelay time.Duration

	// HTTPClient sends the requests. Default: a client whose requests time
	// out after 2 minutes, the model activity's start-to-close timeout.
	HTTPClient *http.Client

	// Getenv reads the key's variable. Default os.Getenv; tests replace it.
	Getenv func(string) string
}

// Model calls Anthropic's messages API. It keeps no state between calls and
// is safe for concurrent use.
type Model struct {
	svc      sdk.MessageService
	model    string
	keyEnv   string
	getenv   func(string) string
	maxTok   int64
	maxDelay time.Duration
}

var _ agent.Model = (*Model)(nil)

// New returns a model for opts, or an error naming the option that is out
// of range. It checks that the key's variable is set.
func New(opts Options) (*Model, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("anthropic: base URL must be an absolute http or https URL")
	}
	if u.User != nil {
		return nil, errors.New("anthropic: base URL must not hold credentials; use the key variable")
	}
	if opts.Model == "" {
		return nil, errors.New("anthropic: no model name")
	}
	if opts.APIKeyEnv == "" {
		opts.APIKeyEnv = DefaultAPIKeyEnv
	}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = DefaultMaxTokens
	}
	if opts.MaxTokens < 1 || opts.MaxTokens > 64_000 {
		return nil, fmt.Errorf("anthropic: max tokens %d out of range 1..64000", opts.MaxTokens)
	}
	if opts.MaxRetryDelay == 0 {
		opts.MaxRetryDelay = modelerr.DefaultMaxDelay
	}
	if opts.MaxRetryDelay < time.Second || opts.MaxRetryDelay > time.Hour {
		return nil, fmt.Errorf("anthropic: max retry delay %v out of range 1s..1h", opts.MaxRetryDelay)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Getenv(opts.APIKeyEnv) == "" {
		return nil, fmt.Errorf("anthropic: %s is not set; put the API key in the worker's environment", opts.APIKeyEnv)
	}

	// A service, not sdk.NewClient: the client would pick up ANTHROPIC_*
	// variables and credential files on its own.
	svc := sdk.NewMessageService(
		option.WithBaseURL(opts.BaseURL),
		option.WithHTTPClient(opts.HTTPClient),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(2*time.Minute),
	)
	return &Model{
		svc:      svc,
		model:    opts.Model,
		keyEnv:   opts.APIKeyEnv,
		getenv:   opts.Getenv,
		maxTok:   opts.MaxTokens,
		maxDelay: opts.MaxRetryDelay,
	}, nil
}

// Complete implements [agent.Model]. See agent/openai for the errors.
func (m *Model) Complete(ctx context.Context, req agent.CompletionRequest) (agent.CompletionResponse, error) {
	key := m.getenv(m.keyEnv)
	if key == "" {
		return agent.CompletionResponse{}, modelerr.Config(
			fmt.Sprintf("anthropic: %s is not set in the worker's environment", m.keyEnv))
	}
	params, err := m.params(req)
	if err != nil {
		return agent.CompletionResponse{}, err
	}

	msg, err := m.svc.New(ctx, params, option.WithAPIKey(key))
	if err != nil {
		var apiErr *sdk.Error
		if errors.As(err, &apiErr) {
			var h http.Header
			if apiErr.Response != nil {
				h = apiErr.Response.Header
			}
			status := apiErr.StatusCode
			if status == 529 { // overloaded: a 5xx by another number
				status = http.StatusServiceUnavailable
			}
			return agent.CompletionResponse{}, modelerr.Status(provider, status, h,
				modelerr.Redact(string(apiErr.ErrorCode()), key), modelerr.Redact(string(apiErr.Type()), key),
				m.maxDelay)
		}
		return agent.CompletionResponse{}, modelerr.Transport(ctx, provider, redacted{err, key})
	}
	return reply(msg)
}

type redacted struct {
	err error
	key string
}

func (r redacted) Error() string { return modelerr.Redact(r.err.Error(), r.key) }

// params maps the conversation onto a messages request.
func (m *Model) params(req agent.CompletionRequest) (sdk.MessageNewParams, error) {
	p := sdk.MessageNewParams{Model: sdk.Model(m.model), MaxTokens: m.maxTok}
	var system []string
	for i, msg := range req.Messages {
		switch msg.Role {
		case agent.RoleSystem:
			system = append(system, msg.Content)
		case agent.RoleUser:
			p.Messages = appendTurn(p.Messages, false, sdk.NewTextBlock(msg.Content))
		case agent.RoleTool:
			p.Messages = appendTurn(p.Messages, false, sdk.NewToolResultBlock(msg.ToolCallID, msg.Content, isError(msg.Content)))
		case agent.RoleAssistant:
			var blocks []sdk.ContentBlockParamUnion
			if msg.Content != "" {
				blocks = append(blocks, sdk.NewTextBlock(msg.Content))
			}
			for _, c := range msg.ToolCalls {
				input := json.RawMessage(c.Arguments)
				if c.Arguments == "" {
					input = json.RawMessage("{}")
				}
				if !json.Valid(input) {
					return p, modelerr.BadReply(fmt.Sprintf("anthropic: message %d: tool call arguments are not JSON", i))
				}
				blocks = append(blocks, sdk.NewToolUseBlock(c.ID, input, c.Name))
			}
			p.Messages = appendTurn(p.Messages, true, blocks...)
		default:
			return p, modelerr.BadReply(fmt.Sprintf("anthropic: message %d has role %q", i, msg.Role))
		}
	}
	if len(system) > 0 {
		p.System = []sdk.TextBlockParam{{Text: strings.Join(system, "\n\n")}}
	}
	for _, t := range req.Tools {
		var schema struct {
			Properties any      `json:"properties"`
			Required   []string `json:"required"`
		}
		var extra map[string]any
		if json.Unmarshal(t.Parameters, &schema) != nil || json.Unmarshal(t.Parameters, &extra) != nil {
			return p, modelerr.BadReply(fmt.Sprintf("anthropic: tool %s: parameters are not a JSON object", t.Name))
		}
		delete(extra, "type")
		delete(extra, "properties")
		delete(extra, "required")
		p.Tools = append(p.Tools, sdk.ToolUnionParam{OfTool: &sdk.ToolParam{
			Name:        t.Name,
			Description: sdk.String(t.Description),
			InputSchema: sdk.ToolInputSchemaParam{
				Properties:  schema.Properties,
				Required:    schema.Required,
				ExtraFields: extra,
			},
		}})
	}
	return p, nil
}

// appendTurn adds blocks to the last message if it has the same role, or
// as a new message.
func appendTurn(msgs []sdk.MessageParam, assistant bool, blocks ...sdk.ContentBlockParamUnion) []sdk.MessageParam {
	if n := len(msgs); n > 0 {
		last := msgs[n-1]
		if assistant && last.OfAssistant != nil {
			last.OfAssistant.Content = append(last.OfAssistant.Content, blocks...)
			return msgs
		}
		if !assistant && last.OfUser != nil {
			last.OfUser.Content = append(last.OfUser.Content, blocks...)
			return msgs
		}
	}
	if assistant {
		return append(msgs, sdk.NewAssistantMessage(blocks...))
	}
	return append(msgs, sdk.NewUserMessage(blocks...))
}

// isError reports whether a tool message is the workflow's error object.
func isError(content string) bool {
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal([]byte(content), &e) == nil && e.Error != ""
}

// reply maps a message onto an agent reply.
func reply(msg *sdk.Message) (agent.CompletionResponse, error) {
	if msg == nil {
		return agent.CompletionResponse{}, modelerr.BadReply("anthropic: empty reply")
	}
	out := agent.Message{Role: agent.RoleAssistant}
	var text []string
	for i, b := range msg.Content {
		switch b.Type {
		case "text":
			text = append(text, b.Text)
		case "tool_use":
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, agent.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		default:
			return agent.CompletionResponse{}, modelerr.BadReply(
				fmt.Sprintf("anthropic: reply block %d is of type %q", i, modelerr.Token(b.Type)))
		}
	}
	out.Content = strings.Join(text, "\n")
	finish := agent.FinishStop
	if len(out.ToolCalls) > 0 {
		finish = agent.FinishToolCalls
	}
	return agent.CompletionResponse{Message: out, FinishReason: finish}, nil
}
