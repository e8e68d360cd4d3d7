package codec

import (
	"errors"
	"fmt"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of temporal.api.common.v1.Payload and of its metadata map
// entries.
const (
	fieldMetadata = 1
	fieldData     = 2
	fieldMapKey   = 1
	fieldMapValue = 2
)

// unmarshalPayload fills p from b, the serialized inner payload, without
// copying: p's data and metadata values are subslices of b, with capacity
// clipped so that appending to one cannot overwrite another. The caller
// must hand b over for good.
//
// It reads the two fields every SDK writes, metadata and data. A payload
// with anything else (external payload details, fields added by a newer
// API, wire types out of place) goes to proto.Unmarshal, which copies; the
// two agree on every input (see FuzzUnmarshalPayload).
func unmarshalPayload(b []byte, p *commonpb.Payload) error {
	if !fastUnmarshal(b, p) {
		p.Reset()
		return proto.Unmarshal(b, p)
	}
	return nil
}

func fastUnmarshal(b []byte, p *commonpb.Payload) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return false
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		v = v[:len(v):len(v)]
		switch num {
		case fieldData:
			p.Data = v
		case fieldMetadata:
			key, value, ok := parseMapEntry(v)
			if !ok {
				return false
			}
			if p.Metadata == nil {
				p.Metadata = make(map[string][]byte, 2)
			}
			p.Metadata[key] = value
		default:
			return false
		}
	}
	return true
}

// parseMapEntry reads one metadata entry. Keys are proto3 strings and must
// be valid UTF-8, as proto.Unmarshal requires.
func parseMapEntry(b []byte) (key string, value []byte, ok bool) {
	var k []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType || (num != fieldMapKey && num != fieldMapValue) {
			return "", nil, false
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return "", nil, false
		}
		b = b[n:]
		if num == fieldMapKey {
			k = v
		} else {
			value = v[:len(v):len(v)]
		}
	}
	if !utf8.Valid(k) {
		return "", nil, false
	}
	if value == nil {
		value = []byte{}
	}
	return internKey(k), value, true
}

// internKey returns the metadata keys the SDK writes without allocating.
func internKey(k []byte) string {
	switch string(k) {
	case "encoding":
		return "encoding"
	case "messageType":
		return "messageType"
	}
	return string(k)
}

// sizePayload returns p's serialized size and whether appendPayload writes
// it. A payload with external payload details or unknown fields goes to
// proto.Marshal instead.
func sizePayload(p *commonpb.Payload) (n int, fast bool) {
	if len(p.GetExternalPayloads()) > 0 || len(p.ProtoReflect().GetUnknown()) > 0 {
		return proto.Size(p), false
	}
	for k, v := range p.GetMetadata() {
		n += 1 + protowire.SizeBytes(mapEntrySize(k, v))
	}
	if len(p.GetData()) > 0 {
		n += 1 + protowire.SizeBytes(len(p.GetData()))
	}
	return n, true
}

func mapEntrySize(k string, v []byte) int {
	return 1 + protowire.SizeBytes(len(k)) + 1 + protowire.SizeBytes(len(v))
}

// appendPayload appends p in the protobuf encoding, as proto.Marshal writes
// it up to the order of map entries. p must be one sizePayload reports as fast.
func appendPayload(b []byte, p *commonpb.Payload) []byte {
	for k, v := range p.GetMetadata() {
		b = protowire.AppendTag(b, fieldMetadata, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(mapEntrySize(k, v)))
		b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	if len(p.GetData()) > 0 {
		b = protowire.AppendTag(b, fieldData, protowire.BytesType)
		b = protowire.AppendBytes(b, p.GetData())
	}
	return b
}

// marshalInto serializes p into body, which is exactly as long as
// sizePayload said.
func marshalInto(body []byte, p *commonpb.Payload, fast bool) error {
	var out []byte
	var err error
	if fast {
		out = appendPayload(body[:0], p)
	} else {
		out, err = proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(body[:0], p)
	}
	if err == nil && (len(out) != len(body) || len(out) > 0 && &out[0] != &body[0]) {
		// p changed under us between sizing and marshalling.
		clear(out)
		err = errors.New("payload changed while being encoded")
	}
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	return nil
}
