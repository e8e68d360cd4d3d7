package encryption

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Option configures a [Plugin], or what [Dial] and [LoadClientOptions]
// build. Options that only make sense when this package builds the codec
// and the client ([WithKeySource], [WithCodecOptions], [WithEnviron],
// [WithClientOptions]) are an error when given to [NewPlugin].
type Option func(*config) error

type config struct {
	onDecodeFailure func(DecodeFailure)

	// Used by Dial and LoadClientOptions only.
	keys      codec.KeySource
	codecOpts []codec.Option
	environ   []string // nil: the process environment
	adjust    []func(*client.Options)
	dialOnly  []string // names of the dial-only options set
}

func newConfig(opts []Option) (*config, error) {
	cfg := &config{}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("encryption: nil option")
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// WithDecodeFailureHook calls fn once for every batch of payloads the codec
// fails to decode, with the namespace, workflow ID and key ID involved and
// never the payloads. fn runs on the goroutine that decodes, which may be a
// workflow's: it must be quick, must not block, and must be safe for
// concurrent use. A workflow task that is replayed decodes again and calls
// fn again. Default: no hook; failures are still counted.
func WithDecodeFailureHook(fn func(DecodeFailure)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("encryption: WithDecodeFailureHook: nil function")
		}
		c.onDecodeFailure = fn
		return nil
	}
}

// WithKeySource makes [Dial] and [LoadClientOptions] take keys from ks
// instead of loading one key from the environment with envkey.
func WithKeySource(ks codec.KeySource) Option {
	return func(c *config) error {
		if ks == nil {
			return errors.New("encryption: WithKeySource: nil key source")
		}
		c.keys = ks
		c.dialOnly = append(c.dialOnly, "WithKeySource")
		return nil
	}
}

// WithCodecOptions passes opts to [codec.New] when [Dial] or
// [LoadClientOptions] builds the codec. The codec checks them there.
func WithCodecOptions(opts ...codec.Option) Option {
	return func(c *config) error {
		c.codecOpts = append(c.codecOpts, opts...)
		c.dialOnly = append(c.dialOnly, "WithCodecOptions")
		return nil
	}
}

// WithEnviron makes [Dial] and [LoadClientOptions] read configuration from
// env, entries of the form "NAME=value" as [os.Environ] returns them,
// instead of from the process environment. This covers the connection
// variables, TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE, and the key
// variables. A config file that TEMPORAL_CONFIG_FILE does not name is still
// looked for at the default path in the user's configuration directory.
func WithEnviron(env []string) Option {
	return func(c *config) error {
		for _, kv := range env {
			if !strings.Contains(kv, "=") {
				return fmt.Errorf("encryption: WithEnviron: entry without '=' (%d bytes)", len(kv))
			}
		}
		c.environ = append([]string{}, env...)
		c.dialOnly = append(c.dialOnly, "WithEnviron")
		return nil
	}
}

// WithClientOptions calls fn with the client options [Dial] and
// [LoadClientOptions] have read, before the plugin is added, so that the
// caller can set what configuration does not carry: a logger, metrics,
// interceptors, context propagators. fn may also override what was read.
// Several functions run in order.
func WithClientOptions(fn func(*client.Options)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("encryption: WithClientOptions: nil function")
		}
		c.adjust = append(c.adjust, fn)
		c.dialOnly = append(c.dialOnly, "WithClientOptions")
		return nil
	}
}
