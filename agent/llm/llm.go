// Package llm picks the trading agent's [agent.Model] from configuration:
// the offline [agent.RulePlanner] (the default), an OpenAI-compatible
// endpoint (agent/openai) or Anthropic (agent/anthropic). The worker and
// the demo use it, so both are configured the same way:
//
//	AGENT_MODEL         offline (default), openai or anthropic
//	OPENAI_BASE_URL     default https://api.openai.com/v1
//	OPENAI_MODEL        model name, required for openai
//	OPENAI_API_KEY      the key; read by the worker, inside the model activity
//	ANTHROPIC_BASE_URL  default https://api.anthropic.com
//	ANTHROPIC_MODEL     model name, required for anthropic
//	ANTHROPIC_API_KEY   the key; as above
//
// Flags (-model, -model-name, -model-base-url, -model-key-env) override
// the variables. There is no flag for the key itself, which would show in
// the process list: -model-key-env names the variable to read it from.
package llm

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/anthropic"
	"github.com/temporal-encryption/temporal-encryption/agent/openai"
)

// Providers.
const (
	Offline   = "offline"
	OpenAI    = "openai"
	Anthropic = "anthropic"
)

// Environment variables read by [FromEnv] and [Config.AddFlags].
const (
	EnvProvider         = "AGENT_MODEL"
	EnvOpenAIBaseURL    = "OPENAI_BASE_URL"
	EnvOpenAIModel      = "OPENAI_MODEL"
	EnvAnthropicBaseURL = "ANTHROPIC_BASE_URL"
	EnvAnthropicModel   = "ANTHROPIC_MODEL"
)

// Config says which model to use. None of it is secret.
type Config struct {
	// Provider is Offline, OpenAI or Anthropic. Default Offline.
	Provider string

	// Name is the model name; required for OpenAI and Anthropic. Default:
	// OPENAI_MODEL or ANTHROPIC_MODEL.
	Name string

	// BaseURL is the service's address. Default: OPENAI_BASE_URL or
	// ANTHROPIC_BASE_URL, else the provider's public API.
	BaseURL string

	// KeyEnv names the variable holding the API key. Default
	// OPENAI_API_KEY or ANTHROPIC_API_KEY.
	KeyEnv string

	// Getenv reads the environment. Default os.Getenv.
	Getenv func(string) string
}

// FromEnv returns the configuration the variables describe.
func FromEnv(getenv func(string) string) Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{Provider: getenv(EnvProvider), Getenv: getenv}
	return c.withDefaults()
}

// AddFlags registers -model, -model-name, -model-base-url and
// -model-key-env on fs, writing to c. Flags left unset keep what
// [FromEnv] found; call [New] after parsing.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	env := FromEnv(c.Getenv)
	fs.StringVar(&c.Provider, "model", env.Provider,
		"model provider: offline, openai or anthropic (env "+EnvProvider+")")
	fs.StringVar(&c.Name, "model-name", "",
		"model name (env "+EnvOpenAIModel+" or "+EnvAnthropicModel+")")
	fs.StringVar(&c.BaseURL, "model-base-url", "",
		"model API base URL (env "+EnvOpenAIBaseURL+" or "+EnvAnthropicBaseURL+")")
	fs.StringVar(&c.KeyEnv, "model-key-env", "",
		"name of the variable holding the API key (default "+openai.DefaultAPIKeyEnv+
			" or "+anthropic.DefaultAPIKeyEnv+")")
}

func (c Config) withDefaults() Config {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Provider == "" {
		c.Provider = Offline
	}
	switch c.Provider {
	case OpenAI:
		c.Name = first(c.Name, c.Getenv(EnvOpenAIModel))
		c.BaseURL = first(c.BaseURL, c.Getenv(EnvOpenAIBaseURL), openai.DefaultBaseURL)
		c.KeyEnv = first(c.KeyEnv, openai.DefaultAPIKeyEnv)
	case Anthropic:
		c.Name = first(c.Name, c.Getenv(EnvAnthropicModel))
		c.BaseURL = first(c.BaseURL, c.Getenv(EnvAnthropicBaseURL), anthropic.DefaultBaseURL)
		c.KeyEnv = first(c.KeyEnv, anthropic.DefaultAPIKeyEnv)
	}
	return c
}

// New returns the model c describes. For OpenAI and Anthropic the key's
// variable must be set; the key is read again on every model call.
func New(c Config) (agent.Model, error) {
	c = c.withDefaults()
	switch c.Provider {
	case Offline:
		return agent.RulePlanner{}, nil
	case OpenAI:
		if c.Name == "" {
			return nil, errors.New("llm: no model name: set " + EnvOpenAIModel + " or -model-name")
		}
		return openai.New(openai.Options{BaseURL: c.BaseURL, Model: c.Name, APIKeyEnv: c.KeyEnv, Getenv: c.Getenv})
	case Anthropic:
		if c.Name == "" {
			return nil, errors.New("llm: no model name: set " + EnvAnthropicModel + " or -model-name")
		}
		return anthropic.New(anthropic.Options{BaseURL: c.BaseURL, Model: c.Name, APIKeyEnv: c.KeyEnv, Getenv: c.Getenv})
	}
	return nil, fmt.Errorf("llm: unknown model provider %q: want %s, %s or %s", c.Provider, Offline, OpenAI, Anthropic)
}

// KeyVar returns the name of the variable the API key is read from, or ""
// for the offline model.
func (c Config) KeyVar() string {
	c = c.withDefaults()
	if c.Provider == Offline {
		return ""
	}
	return c.KeyEnv
}

// String describes c for a log line: provider, model and address, and the
// name of the key's variable, never the key.
func (c Config) String() string {
	c = c.withDefaults()
	if c.Provider == Offline {
		return "offline rule planner (deterministic, no network)"
	}
	return fmt.Sprintf("%s model %s at %s (key from $%s)", c.Provider, c.Name, c.BaseURL, c.KeyEnv)
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
