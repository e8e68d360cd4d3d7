package encryption

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
)

// Dial connects a client configured by [LoadClientOptions]. Workers made
// from it encrypt too. The caller closes the client.
func Dial(ctx context.Context, opts ...Option) (client.Client, error) {
	o, err := LoadClientOptions(opts...)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("encryption: dial %s: %w", o.HostPort, err)
	}
	return c, nil
}

// LoadClientOptions reads client options the way the Temporal CLI and the
// SDKs' environment configuration do, and adds a [Plugin] that encrypts.
//
// The connection comes from the profile named by TEMPORAL_PROFILE (default
// "default") of the TOML file named by TEMPORAL_CONFIG_FILE (default
// temporalio/temporal.toml in the user's configuration directory; a missing
// file is not an error), overridden by TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS and the
// TEMPORAL_TLS_* variables, TEMPORAL_CLIENT_AUTHORITY and
// TEMPORAL_GRPC_META_*. An API key turns TLS on unless TEMPORAL_TLS=false.
// Left unset, the address and namespace take the SDK's defaults,
// localhost:7233 and "default". A codec endpoint in the profile or in
// TEMPORAL_CODEC_ENDPOINT is for the CLI and the Web UI and is ignored
// here: this process encrypts and decrypts itself.
//
// The key comes from TEMPORAL_ENCRYPTION_KEY, TEMPORAL_ENCRYPTION_KEY_ID
// and TEMPORAL_ENCRYPTION_ALGORITHM (see package envkey), unless
// [WithKeySource] gives a key source. Errors name the variable or file to
// fix and never include a key or a credential.
func LoadClientOptions(opts ...Option) (client.Options, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return client.Options{}, err
	}
	env := environ{vars: cfg.environ}

	prof, err := envconfig.LoadClientConfigProfile(
		envconfig.LoadClientConfigProfileOptions{EnvLookup: env})
	if err != nil {
		return client.Options{}, configError(err)
	}
	o, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("encryption: client configuration: %w", err)
	}

	keys := cfg.keys
	if keys == nil {
		ring, err := envkey.LoadFrom(env.getenv)
		if err != nil {
			return client.Options{}, fmt.Errorf("encryption: %w", err)
		}
		keys = ring
	}
	c, err := codec.New(keys, cfg.codecOpts...)
	if err != nil {
		return client.Options{}, fmt.Errorf("encryption: %w", err)
	}

	for _, fn := range cfg.adjust {
		fn(&o)
	}
	o.Plugins = append(o.Plugins, newPlugin(c, cfg))
	return o, nil
}

// configError reports an error loading the configuration. A TOML syntax
// error is reduced to its line and key: the parser's message can quote the
// text it choked on, which may be an API key.
func configError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("encryption: client configuration: TOML syntax error at line %d (key %q); "+
			"the parser's message is withheld because it can quote a credential",
			pe.Position.Line, pe.LastKey)
	}
	return fmt.Errorf("encryption: client configuration: %w", err)
}

// environ is an [envconfig.EnvLookup] over a fixed list of variables, or
// over the process environment when the list is nil.
type environ struct {
	vars []string
}

var _ envconfig.EnvLookup = environ{}

func (e environ) Environ() []string {
	if e.vars == nil {
		return os.Environ()
	}
	return e.vars
}

func (e environ) LookupEnv(name string) (string, bool) {
	if e.vars == nil {
		return os.LookupEnv(name)
	}
	// The last entry wins, as it does for a process environment built by
	// appending.
	val, found := "", false
	for _, kv := range e.vars {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			val, found = v, true
		}
	}
	return val, found
}

func (e environ) getenv(name string) string {
	v, _ := e.LookupEnv(name)
	return v
}
