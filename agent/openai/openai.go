package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/internal/modelerr"
)

// Defaults of [Options].
const (
	DefaultBaseURL   = "https://api.openai.com/v1"
	DefaultAPIKeyEnv = "OPENAI_API_KEY"
)

const provider = "openai"

// Options configure a [Model]. None of them is secret: the key itself is
// only ever read from the environment.
type Options struct {
	// BaseURL is the API's address up to and including its version, such
	// as "http://127.0.0.1:8000/v1". Default DefaultBaseURL. Must be an
	// absolute http or https URL without user information.
	BaseURL string

	// Model is the model name the service knows, such as "gpt-4o-mini".
	// Required.
	Model string

	// APIKeyEnv names the environment variable that holds the API key.
	// Default DefaultAPIKeyEnv. The variable must be set when [New] runs
	// and is read again on every call.
	APIKeyEnv string

	// MaxTokens caps the tokens of each reply. Default 0: the service's
	// own limit; range 0 to 1,000,000.
	MaxTokens int64

	// MaxRetryDelay caps the delay a 429's Retry-After can ask for; a
	// longer one is cut to it. Default 5 minutes; range 1 second to 1 hour.
	MaxRetryDelay time.Duration

	// HTTPClient sends the requests. Default: a client whose requests time
	// out after 2 minutes, the model activity's start-to-close timeout.
	HTTPClient *http.Client

	// Getenv reads the key's variable. Default os.Getenv; tests replace it.
	Getenv func(string) string
}

// Model calls an OpenAI-compatible chat completions endpoint. It keeps no
// state between calls and is safe for concurrent use.
type Model struct {
	svc      oai.ChatCompletionService
	model    string
	keyEnv   string
	getenv   func(string) string
	maxTok   int64
	maxDelay time.Duration
}

var _ agent.Model = (*Model)(nil)

// New returns a model for opts, or an error naming the option that is out
// of range. It checks that the key's variable is set, so a worker without
// one fails at start-up rather than on its first model call.
func New(opts Options) (*Model, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	if err := checkURL(opts.BaseURL); err != nil {
		return nil, err
	}
	if opts.Model == "" {
		return nil, errors.New("openai: no model name")
	}
	if opts.APIKeyEnv == "" {
		opts.APIKeyEnv = DefaultAPIKeyEnv
	}
	if opts.MaxTokens < 0 || opts.MaxTokens > 1_000_000 {
		return nil, fmt.Errorf("openai: max tokens %d out of range 0..1000000", opts.MaxTokens)
	}
	if opts.MaxRetryDelay == 0 {
		opts.MaxRetryDelay = modelerr.DefaultMaxDelay
	}
	if opts.MaxRetryDelay < time.Second || opts.MaxRetryDelay > time.Hour {
		return nil, fmt.Errorf("openai: max retry delay %v out of range 1s..1h", opts.MaxRetryDelay)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Getenv(opts.APIKeyEnv) == "" {
		return nil, fmt.Errorf("openai: %s is not set; put the API key in the worker's environment", opts.APIKeyEnv)
	}

	// A service, not oai.NewClient: the client would pick up OPENAI_*
	// variables on its own.
	svc := oai.NewChatCompletionService(
		option.WithBaseURL(opts.BaseURL),
		option.WithHTTPClient(opts.HTTPClient),
		option.WithMaxRetries(0),
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

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("openai: base URL must be an absolute http or https URL")
	}
	if u.User != nil {
		return errors.New("openai: base URL must not hold credentials; use the key variable")
	}
	return nil
}

// Complete implements [agent.Model]: it sends the conversation and the tool
// specs, and returns the reply's tool calls or text. See the package doc
// for the errors.
func (m *Model) Complete(ctx context.Context, req agent.CompletionRequest) (agent.CompletionResponse, error) {
	key := m.getenv(m.keyEnv)
	if key == "" {
		return agent.CompletionResponse{}, modelerr.Config(
			fmt.Sprintf("openai: %s is not set in the worker's environment", m.keyEnv))
	}
	params, err := m.params(req)
	if err != nil {
		return agent.CompletionResponse{}, err
	}

	comp, err := m.svc.New(ctx, params, option.WithAPIKey(key))
	if err != nil {
		var apiErr *oai.Error
		if errors.As(err, &apiErr) {
			var h http.Header
			if apiErr.Response != nil {
				h = apiErr.Response.Header
			}
			return agent.CompletionResponse{}, modelerr.Status(provider, apiErr.StatusCode, h,
				modelerr.Redact(apiErr.Code, key), modelerr.Redact(apiErr.Type, key), m.maxDelay)
		}
		return agent.CompletionResponse{}, modelerr.Transport(ctx, provider, redacted{err, key})
	}
	return reply(comp)
}

// redacted prints an error with the key taken out.
type redacted struct {
	err error
	key string
}

func (r redacted) Error() string { return modelerr.Redact(r.err.Error(), r.key) }

// params maps the request onto the chat completions request body.
func (m *Model) params(req agent.CompletionRequest) (oai.ChatCompletionNewParams, error) {
	p := oai.ChatCompletionNewParams{Model: shared.ChatModel(m.model)}
	if m.maxTok > 0 {
		p.MaxCompletionTokens = oai.Int(m.maxTok)
	}
	for i, msg := range req.Messages {
		switch msg.Role {
		case agent.RoleSystem:
			p.Messages = append(p.Messages, oai.SystemMessage(msg.Content))
		case agent.RoleUser:
			p.Messages = append(p.Messages, oai.UserMessage(msg.Content))
		case agent.RoleTool:
			p.Messages = append(p.Messages, oai.ToolMessage(msg.Content, msg.ToolCallID))
		case agent.RoleAssistant:
			var a oai.ChatCompletionAssistantMessageParam
			if msg.Content != "" {
				a.Content.OfString = oai.String(msg.Content)
			}
			for _, c := range msg.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, oai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &oai.ChatCompletionMessageFunctionToolCallParam{
						ID: c.ID,
						Function: oai.ChatCompletionMessageFunctionToolCallFunctionParam{
							Name:      c.Name,
							Arguments: orEmptyObject(c.Arguments),
						},
					},
				})
			}
			p.Messages = append(p.Messages, oai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		default:
			return p, modelerr.BadReply(fmt.Sprintf("openai: message %d has role %q", i, msg.Role))
		}
	}
	for _, t := range req.Tools {
		var schema map[string]any
		if err := json.Unmarshal(t.Parameters, &schema); err != nil {
			return p, modelerr.BadReply(fmt.Sprintf("openai: tool %s: parameters are not a JSON object", t.Name))
		}
		p.Tools = append(p.Tools, oai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name,
			Description: oai.String(t.Description),
			Parameters:  shared.FunctionParameters(schema),
		}))
	}
	return p, nil
}

// reply maps the first choice of a completion onto an agent reply.
func reply(c *oai.ChatCompletion) (agent.CompletionResponse, error) {
	if c == nil || len(c.Choices) == 0 {
		return agent.CompletionResponse{}, modelerr.BadReply("openai: reply has no choices")
	}
	ch := c.Choices[0]
	msg := agent.Message{Role: agent.RoleAssistant, Content: ch.Message.Content}
	for i, tc := range ch.Message.ToolCalls {
		if tc.Type != "function" {
			return agent.CompletionResponse{}, modelerr.BadReply(
				fmt.Sprintf("openai: tool call %d is of type %q, not function", i, modelerr.Token(tc.Type)))
		}
		msg.ToolCalls = append(msg.ToolCalls, agent.ToolCall{
			ID:        tc.ID,
			Name:      tc.Function.Name,
			Arguments: tc.Function.Arguments,
		})
	}
	if msg.Content == "" && len(msg.ToolCalls) == 0 && ch.Message.Refusal != "" {
		msg.Content = "The model declined to answer: " + ch.Message.Refusal
	}
	finish := agent.FinishStop
	if len(msg.ToolCalls) > 0 {
		finish = agent.FinishToolCalls
	}
	return agent.CompletionResponse{Message: msg, FinishReason: finish}, nil
}

func orEmptyObject(args string) string {
	if args == "" {
		return "{}"
	}
	return args
}
