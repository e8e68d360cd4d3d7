package codec

import (
	"bytes"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// FuzzUnmarshalPayload checks the zero-copy parser against proto.Unmarshal
// on arbitrary bytes: both fail, or both give equal payloads. It also checks
// that appendPayload writes what proto.Unmarshal reads back.
func FuzzUnmarshalPayload(f *testing.F) {
	seeds := []*commonpb.Payload{
		{},
		{Data: []byte("x")},
		{Metadata: map[string][]byte{"encoding": []byte("json/plain"), "messageType": nil}, Data: []byte(`{}`)},
		{Metadata: map[string][]byte{"": {}}},
		{ExternalPayloads: []*commonpb.Payload_ExternalPayloadDetails{{SizeBytes: 7}}},
	}
	for _, p := range seeds {
		b, _ := proto.Marshal(p)
		f.Add(b)
	}
	f.Add(protowire.AppendTag(nil, 9, protowire.VarintType))
	f.Add([]byte{0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe}) // invalid UTF-8 key
	f.Fuzz(func(t *testing.T, b []byte) {
		var want commonpb.Payload
		wantErr := proto.Unmarshal(b, &want)
		var got commonpb.Payload
		gotErr := unmarshalPayload(bytes.Clone(b), &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("proto.Unmarshal err = %v, unmarshalPayload err = %v", wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if !proto.Equal(&got, &want) {
			t.Fatalf("unmarshalPayload = %v, proto.Unmarshal = %v", &got, &want)
		}
		n, fast := sizePayload(&want)
		buf := make([]byte, n)
		if err := marshalInto(buf, &want, fast); err != nil {
			t.Fatal(err)
		}
		var back commonpb.Payload
		if err := proto.Unmarshal(buf, &back); err != nil || !proto.Equal(&back, &want) {
			t.Fatalf("marshalInto did not round-trip: %v", err)
		}
	})
}

func TestUnmarshalPayloadDoesNotCopy(t *testing.T) {
	b, _ := proto.Marshal(&commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data:     []byte("0123456789"),
	})
	var p commonpb.Payload
	if err := unmarshalPayload(b, &p); err != nil {
		t.Fatal(err)
	}
	if cap(p.Data) != len(p.Data) || cap(p.Metadata["encoding"]) != len(p.Metadata["encoding"]) {
		t.Fatal("parsed slices are not clipped; an append could overwrite a neighbour")
	}
	if &b[len(b)-1] != &p.Data[len(p.Data)-1] {
		t.Fatal("data was copied; the fast path should alias the decrypted buffer")
	}
}
