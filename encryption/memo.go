package encryption

import (
	"context"
	"errors"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// The SDK encodes each memo value with the client's data converter and, if
// that fails, encodes it again with the default, plaintext converter and
// carries on. When the codec fails (a key source that cannot be reached),
// the memo would be stored in clear. The plugin closes that path: its
// interceptor hands the SDK each memo value inside a memoValue, which the
// plugin's data converter unwraps and the default converter cannot encode,
// so the SDK's fallback fails too and the codec's error reaches the caller.

// errMemoFallback is what the default converter reports for a memoValue.
// Seeing it means a memo value reached a data converter other than the
// plugin's.
var errMemoFallback = errors.New("encryption: memo value reached a data converter " +
	"that is not the plugin's; refusing to store it in clear")

// memoValue carries a memo value to the plugin's data converter.
type memoValue struct{ v any }

// MarshalJSON fails, so that the default converter cannot encode a
// memoValue.
func (memoValue) MarshalJSON() ([]byte, error) { return nil, errMemoFallback }

// sealMemo returns a copy of memo with every value wrapped, or memo itself
// when it is empty. Payloads are left as they are: the SDK stores a
// *commonpb.Payload in a schedule action's memo as given, which is how a
// caller keeps a value readable on purpose.
func sealMemo(memo map[string]any) map[string]any {
	if len(memo) == 0 {
		return memo
	}
	out := make(map[string]any, len(memo))
	for k, v := range memo {
		switch v.(type) {
		case memoValue, *commonpb.Payload:
			out[k] = v
		default:
			out[k] = memoValue{v}
		}
	}
	return out
}

// memoGuard is a data converter that unwraps memoValues before passing
// values to the converter it wraps. It forwards the optional interfaces the
// SDK looks for on a data converter.
type memoGuard struct {
	converter.DataConverter
}

var (
	_ converter.PayloadCodecProvider                  = memoGuard{}
	_ converter.DataConverterWithSerializationContext = memoGuard{}
)

func (g memoGuard) ToPayload(value any) (*commonpb.Payload, error) {
	if m, ok := value.(memoValue); ok {
		value = m.v
	}
	return g.DataConverter.ToPayload(value)
}

func (g memoGuard) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	for i, v := range values {
		if m, ok := v.(memoValue); ok {
			if i == 0 {
				values = append([]any(nil), values...)
			}
			values[i] = m.v
		}
	}
	return g.DataConverter.ToPayloads(values...)
}

// Codec implements [converter.PayloadCodecProvider], through which the SDK
// finds the codec it applies to headers.
func (g memoGuard) Codec() converter.PayloadCodec {
	if p, ok := g.DataConverter.(converter.PayloadCodecProvider); ok {
		return p.Codec()
	}
	return nil
}

// WithSerializationContext implements
// [converter.DataConverterWithSerializationContext].
func (g memoGuard) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	return memoGuard{converter.WithDataConverterSerializationContext(g.DataConverter, sc)}
}

// memoInterceptor wraps memo values on every client call and workflow
// command that carries a memo through the data converter.
type memoInterceptor struct {
	interceptor.InterceptorBase
}

func (*memoInterceptor) InterceptClient(
	next interceptor.ClientOutboundInterceptor,
) interceptor.ClientOutboundInterceptor {
	return &memoClient{interceptor.ClientOutboundInterceptorBase{Next: next}}
}

func (*memoInterceptor) InterceptWorkflow(
	_ workflow.Context, next interceptor.WorkflowInboundInterceptor,
) interceptor.WorkflowInboundInterceptor {
	return &memoWorkflowInbound{interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type memoClient struct {
	interceptor.ClientOutboundInterceptorBase
}

func (c *memoClient) ExecuteWorkflow(
	ctx context.Context, in *interceptor.ClientExecuteWorkflowInput,
) (client.WorkflowRun, error) {
	if in.Options != nil && len(in.Options.Memo) > 0 {
		cp, opts := *in, *in.Options
		opts.Memo = sealMemo(opts.Memo)
		cp.Options = &opts
		in = &cp
	}
	return c.Next.ExecuteWorkflow(ctx, in)
}

func (c *memoClient) SignalWithStartWorkflow(
	ctx context.Context, in *interceptor.ClientSignalWithStartWorkflowInput,
) (client.WorkflowRun, error) {
	if in.Options != nil && len(in.Options.Memo) > 0 {
		cp, opts := *in, *in.Options
		opts.Memo = sealMemo(opts.Memo)
		cp.Options = &opts
		in = &cp
	}
	return c.Next.SignalWithStartWorkflow(ctx, in)
}

func (c *memoClient) CreateSchedule(
	ctx context.Context, in *interceptor.ScheduleClientCreateInput,
) (client.ScheduleHandle, error) {
	if in.Options != nil {
		cp, opts := *in, *in.Options
		opts.Memo = sealMemo(opts.Memo)
		if a, ok := opts.Action.(*client.ScheduleWorkflowAction); ok && a != nil && len(a.Memo) > 0 {
			action := *a
			action.Memo = sealMemo(action.Memo)
			opts.Action = &action
		}
		cp.Options = &opts
		in = &cp
	}
	return c.Next.CreateSchedule(ctx, in)
}

type memoWorkflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (w *memoWorkflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	out := &memoWorkflowOutbound{interceptor.WorkflowOutboundInterceptorBase{Next: outbound}}
	return w.Next.Init(out)
}

type memoWorkflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (w *memoWorkflowOutbound) UpsertMemo(ctx workflow.Context, memo map[string]any) error {
	return w.Next.UpsertMemo(ctx, sealMemo(memo))
}

func (w *memoWorkflowOutbound) UpsertMemoWithOptions(
	ctx workflow.Context, memo map[string]any, options workflow.UpsertMemoOptions,
) error {
	return w.Next.UpsertMemoWithOptions(ctx, sealMemo(memo), options)
}

func (w *memoWorkflowOutbound) ExecuteChildWorkflow(
	ctx workflow.Context, childWorkflowType string, args ...any,
) workflow.ChildWorkflowFuture {
	if opts := workflow.GetChildWorkflowOptions(ctx); len(opts.Memo) > 0 {
		opts.Memo = sealMemo(opts.Memo)
		ctx = workflow.WithChildOptions(ctx, opts)
	}
	return w.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}
