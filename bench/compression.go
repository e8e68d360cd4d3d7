package bench

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// CompressionRatio returns how many times smaller c makes the corpus
// payload of kind and size: the payload's protobuf size before encoding
// over its size after, so the metadata each codec adds counts against it,
// as it does in a workflow's history. It checks that the payload decodes
// back to the original.
func CompressionRatio(c converter.PayloadCodec, kind Kind, size int) (float64, error) {
	in := []*commonpb.Payload{Payload(kind, size)}
	enc, err := c.Encode(in)
	if err != nil {
		return 0, err
	}
	dec, err := c.Decode(enc)
	if err != nil {
		return 0, err
	}
	if len(enc) != 1 || len(dec) != 1 || !proto.Equal(dec[0], in[0]) {
		return 0, fmt.Errorf("bench: %s/%d: payload did not survive a round trip", kind, size)
	}
	return float64(proto.Size(in[0])) / float64(proto.Size(enc[0])), nil
}
