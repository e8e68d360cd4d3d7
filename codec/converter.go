package codec

import (
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// NewDataConverter returns the SDK's default data converter with c applied to
// every payload it produces and reads. Give it to both clients and workers
// (workers made from a client inherit it).
func NewDataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// NewFailureConverter returns a failure converter that moves error messages
// and stack traces into an encoded payload, so that dc's codec encrypts them
// too. Without it, the text of every error a workflow or activity returns is
// stored in clear.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}
