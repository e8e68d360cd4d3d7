package encryption

import (
	"errors"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Reasons a payload fails to decode, as [DecodeFailure.Reason] gives them.
// They are stable and short enough to use as metric labels.
const (
	// ReasonUnknownKey: the payload names a key the key source does not
	// hold ([codec.ErrUnknownKey]).
	ReasonUnknownKey = "unknown-key"
	// ReasonDecrypt: the payload did not authenticate ([codec.ErrDecrypt]).
	ReasonDecrypt = "decrypt"
	// ReasonUnavailable: the key source could not be reached
	// ([codec.ErrUnavailable]).
	ReasonUnavailable = "unavailable"
	// ReasonOther: any other codec error, such as an unsupported format
	// version or a payload over a size limit.
	ReasonOther = "other"
)

// DecodeFailure describes a batch of payloads the codec could not decode.
// It carries names and identifiers, never payload content.
type DecodeFailure struct {
	// Namespace and WorkflowID say whose payloads they were. Either is
	// empty when the SDK decoded without saying.
	Namespace  string
	WorkflowID string

	// KeyID and Algorithm are those the first undecodable payload names,
	// empty if it names none. They come from the payload, which whoever
	// can signal the workflow controls: treat them as untrusted text, up to
	// 256 bytes, and do not use KeyID as a metric label.
	KeyID     string
	Algorithm string

	// Reason is one of the Reason constants, safe as a metric label.
	Reason string

	// Err is the codec's error. Codec errors never hold payload content.
	Err error
}

// LogDecodeFailures returns a hook for [WithDecodeFailureHook] that writes
// each failure to logger as one warning with the namespace, workflow ID,
// key ID, algorithm, reason and error, and nothing of the payload.
func LogDecodeFailures(logger log.Logger) func(DecodeFailure) {
	return func(f DecodeFailure) {
		logger.Warn("encryption: payload could not be decoded",
			"Namespace", f.Namespace,
			"WorkflowID", f.WorkflowID,
			"KeyID", f.KeyID,
			"Algorithm", f.Algorithm,
			"Reason", f.Reason,
			"Error", f.Err)
	}
}

// observedCodec passes payloads to the codec and reports what it fails to
// decode to its plugin, with what the SDK's serialization context says
// about whose payloads they are.
type observedCodec struct {
	inner      converter.PayloadCodec
	plugin     *Plugin
	namespace  string
	workflowID string
}

var _ converter.PayloadCodecWithSerializationContext = (*observedCodec)(nil)

func (o *observedCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return o.inner.Encode(payloads)
}

func (o *observedCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := o.inner.Decode(payloads)
	if err != nil {
		o.report(payloads, err)
	}
	return out, err
}

// WithSerializationContext binds the codec to sc, as the SDK does before it
// encodes or decodes a workflow's or an activity's payloads.
func (o *observedCodec) WithSerializationContext(
	sc converter.SerializationContext,
) converter.PayloadCodec {
	cp := *o
	if c, ok := o.inner.(converter.PayloadCodecWithSerializationContext); ok {
		cp.inner = c.WithSerializationContext(sc)
	}
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		cp.namespace, cp.workflowID = v.Namespace, v.WorkflowID
	case *converter.WorkflowSerializationContext:
		cp.namespace, cp.workflowID = v.Namespace, v.WorkflowID
	case converter.ActivitySerializationContext:
		cp.namespace, cp.workflowID = v.Namespace, v.WorkflowID
	case *converter.ActivitySerializationContext:
		cp.namespace, cp.workflowID = v.Namespace, v.WorkflowID
	}
	return &cp
}

func (o *observedCodec) report(payloads []*commonpb.Payload, err error) {
	o.plugin.failures.Add(1)
	fn := o.plugin.cfg.onDecodeFailure
	if fn == nil {
		return
	}
	f := DecodeFailure{
		Namespace:  o.namespace,
		WorkflowID: o.workflowID,
		Reason:     reason(err),
		Err:        err,
	}
	if p := o.culprit(payloads); p != nil {
		f.KeyID = untrusted(p.GetMetadata()[codec.MetadataKeyID])
		f.Algorithm = untrusted(p.GetMetadata()[codec.MetadataAlgorithm])
	}
	var unknown *codec.UnknownKeyError
	if errors.As(err, &unknown) {
		f.KeyID = untrusted([]byte(unknown.ID))
	}
	fn(f)
}

// maxReported bounds the metadata values a DecodeFailure carries; the
// codec's own limit on key IDs is the same.
const maxReported = 256

// untrusted returns a metadata value from a payload as valid UTF-8 of at
// most maxReported bytes.
func untrusted(b []byte) string {
	if len(b) > maxReported {
		b = b[:maxReported]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// culprit returns the first payload of a failed batch that does not decode
// on its own. Only failures pay for this second look.
func (o *observedCodec) culprit(payloads []*commonpb.Payload) *commonpb.Payload {
	if len(payloads) == 1 {
		return payloads[0]
	}
	for _, p := range payloads {
		if _, err := o.inner.Decode([]*commonpb.Payload{p}); err != nil {
			return p
		}
	}
	return nil
}

func reason(err error) string {
	switch {
	case errors.Is(err, codec.ErrUnknownKey):
		return ReasonUnknownKey
	case errors.Is(err, codec.ErrDecrypt):
		return ReasonDecrypt
	case errors.Is(err, codec.ErrUnavailable):
		return ReasonUnavailable
	}
	return ReasonOther
}
