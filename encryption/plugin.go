package encryption

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// PluginName is what [Plugin.Name] returns; workers report it in their
// heartbeats.
const PluginName = "temporal-encryption"

// Plugin installs the encrypting data converter and failure converter on
// every client it is given to, and through the client on every worker made
// from it. Workflow replayers given the plugin get both converters too.
//
// A Plugin is safe for concurrent use and may be shared by any number of
// clients. Build one per process with [NewPlugin].
type Plugin struct {
	clientPluginBase
	workerPluginBase

	cfg   *config
	codec *observedCodec
	dc    converter.DataConverter
	fc    converter.FailureConverter
	memo  *memoInterceptor

	failures atomic.Uint64
}

// The SDK requires plugins to embed both bases; aliases give the two
// embedded fields distinct names.
type (
	clientPluginBase = client.PluginBase
	workerPluginBase = worker.PluginBase
)

var (
	_ client.Plugin = (*Plugin)(nil)
	_ worker.Plugin = (*Plugin)(nil)
)

// NewPlugin returns a plugin that encrypts with c. The only option it
// accepts is [WithDecodeFailureHook]; the others configure [Dial].
func NewPlugin(c *codec.Codec, opts ...Option) (*Plugin, error) {
	if c == nil {
		return nil, errors.New("encryption: nil codec")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if len(cfg.dialOnly) > 0 {
		return nil, fmt.Errorf("encryption: NewPlugin: %s configure Dial and LoadClientOptions, "+
			"not a plugin", strings.Join(cfg.dialOnly, ", "))
	}
	return newPlugin(c, cfg), nil
}

func newPlugin(c *codec.Codec, cfg *config) *Plugin {
	p := &Plugin{cfg: cfg, memo: &memoInterceptor{}}
	p.codec = &observedCodec{inner: c, plugin: p}
	p.dc = memoGuard{converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), p.codec)}
	p.fc = codec.NewFailureConverter(p.dc)
	return p
}

// Name returns [PluginName].
func (p *Plugin) Name() string { return PluginName }

// DataConverter returns the encrypting data converter the plugin installs
// on clients that have none of their own: the SDK's default converter with
// the codec applied to every payload. Use it to encode or decode a payload
// outside a client, as a test or a migration tool might.
func (p *Plugin) DataConverter() converter.DataConverter { return p.dc }

// FailureConverter returns the failure converter that goes with
// [Plugin.DataConverter].
func (p *Plugin) FailureConverter() converter.FailureConverter { return p.fc }

// DecodeFailures returns how many batches of payloads the plugin's codec
// has failed to decode since the plugin was made. Replays that decode the
// same payload again count again.
func (p *Plugin) DecodeFailures() uint64 { return p.failures.Load() }

// ConfigureClient implements [client.Plugin]. A client with no data
// converter gets [Plugin.DataConverter]; a client with one of its own gets
// it wrapped, with the codec applied after that converter's own codecs.
// The failure converter is always replaced by one that encodes messages
// and stack traces through the resulting data converter. The plugin also
// adds an interceptor, innermost, that keeps memo values from being stored
// in clear when the codec fails (see the package doc); workers made from
// the client inherit it.
func (p *Plugin) ConfigureClient(
	_ context.Context, opts client.PluginConfigureClientOptions,
) error {
	o := opts.ClientOptions
	o.DataConverter, o.FailureConverter = p.converters(o.DataConverter)
	if !slices.Contains(o.Interceptors, interceptor.ClientInterceptor(p.memo)) {
		o.Interceptors = append(o.Interceptors, p.memo)
	}
	return nil
}

// ConfigureWorkflowReplayer implements [worker.Plugin] the way
// [Plugin.ConfigureClient] configures a client, so that a replayer can read
// encrypted histories.
func (p *Plugin) ConfigureWorkflowReplayer(
	_ context.Context, opts worker.PluginConfigureWorkflowReplayerOptions,
) error {
	o := opts.WorkflowReplayerOptions
	o.DataConverter, o.FailureConverter = p.converters(o.DataConverter)
	if !slices.Contains(o.Interceptors, interceptor.WorkerInterceptor(p.memo)) {
		o.Interceptors = append(o.Interceptors, p.memo)
	}
	return nil
}

// converters returns the data converter to install in place of dc, and the
// failure converter that goes with it.
func (p *Plugin) converters(
	dc converter.DataConverter,
) (converter.DataConverter, converter.FailureConverter) {
	if dc == nil || dc == p.dc {
		return p.dc, p.fc
	}
	wrapped := memoGuard{converter.NewCodecDataConverter(dc, p.codec)}
	return wrapped, codec.NewFailureConverter(wrapped)
}
