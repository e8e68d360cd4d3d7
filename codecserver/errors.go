package codecserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// PayloadError is one entry of an error response's "payloadErrors": which
// payload of the request failed, the key ID it names, and why, in one of a
// few fixed phrases. It never carries payload content or the codec's error
// text.
type PayloadError struct {
	Index  int    `json:"index"`
	KeyID  string `json:"keyId,omitempty"`
	Reason string `json:"reason"`

	retry bool
}

// ErrorResponse is the JSON body of every error answer.
type ErrorResponse struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId"`
	// PayloadErrors lists the failed payloads, at most
	// maxListedPayloadErrors; MorePayloadErrors counts the rest.
	PayloadErrors     []PayloadError `json:"payloadErrors,omitempty"`
	MorePayloadErrors int            `json:"morePayloadErrors,omitempty"`
}

const maxListedPayloadErrors = 100

// Reasons given for a payload that failed. They say what a caller can act
// on and reveal nothing more than the codec's own sentinels do.
const (
	reasonDecrypt     = "authentication failed (wrong key, or tampered or truncated payload)"
	reasonUnknownKey  = "unknown key ID"
	reasonVersion     = "unsupported format version"
	reasonLegacy      = "legacy sample format and legacy decoding is off"
	reasonNotEncrypt  = "not encrypted and strict mode is on"
	reasonNoNamespace = "bound to a namespace and none is known"
	reasonTooLarge    = "over the size limit"
	reasonUnavailable = "key source unavailable"
	reasonRandom      = "random source failed"
	reasonKeySource   = "key source error"
)

// classify turns a codec error into a fixed reason, and says whether the
// same request may succeed later (key source trouble) rather than never.
func classify(err error) (reason string, retry bool) {
	switch {
	case errors.Is(err, codec.ErrUnknownKey):
		return reasonUnknownKey, false
	case errors.Is(err, codec.ErrDecrypt):
		return reasonDecrypt, false
	case errors.Is(err, codec.ErrUnsupportedVersion):
		return reasonVersion, false
	case errors.Is(err, codec.ErrLegacyFormat):
		return reasonLegacy, false
	case errors.Is(err, codec.ErrNotEncrypted):
		return reasonNotEncrypt, false
	case errors.Is(err, codec.ErrNoNamespace):
		return reasonNoNamespace, false
	case errors.Is(err, codec.ErrPayloadTooLarge):
		return reasonTooLarge, false
	case errors.Is(err, codec.ErrUnavailable):
		return reasonUnavailable, true
	case errors.Is(err, codec.ErrRandom):
		return reasonRandom, true
	}
	return reasonKeySource, true
}

func retryable(errs []PayloadError) bool {
	for _, e := range errs {
		if e.retry {
			return true
		}
	}
	return false
}

// keyIDOf returns the key ID a payload's metadata names, if any. It comes
// from the request, so it is only ever echoed JSON-escaped and shortened.
func keyIDOf(p *commonpb.Payload) string {
	return truncate(strings.ToValidUTF8(string(p.GetMetadata()[codec.MetadataKeyID]), "?"), 256)
}

// decodeEach decodes payloads one at a time, so that every failure is
// reported with its index. On any failure it returns no payloads, and
// clears those it had decoded.
func decodeEach(c *codec.Codec, in []*commonpb.Payload, rec *record) ([]*commonpb.Payload, []PayloadError) {
	out := make([]*commonpb.Payload, len(in))
	var errs []PayloadError
	for i := range in {
		kid := keyIDOf(in[i])
		rec.addKeyID(kid)
		res, err := c.Decode(in[i : i+1])
		if err != nil {
			var uk *codec.UnknownKeyError
			if errors.As(err, &uk) {
				kid = truncate(strings.ToValidUTF8(uk.ID, "?"), 256)
			}
			reason, retry := classify(err)
			errs = append(errs, PayloadError{Index: i, KeyID: kid, Reason: reason, retry: retry})
			continue
		}
		out[i] = res[0]
	}
	if errs != nil {
		wipe(out)
		return nil, errs
	}
	return out, nil
}

// encodeEach encodes payloads one at a time. A failure of the key source
// stops it at once, since every later payload would fail the same way. On
// any failure it returns no payloads: never a payload in clear.
func encodeEach(c *codec.Codec, in []*commonpb.Payload, rec *record) ([]*commonpb.Payload, []PayloadError) {
	out := make([]*commonpb.Payload, len(in))
	var errs []PayloadError
	for i := range in {
		res, err := c.Encode(in[i : i+1])
		if err != nil {
			reason, retry := classify(err)
			errs = append(errs, PayloadError{Index: i, Reason: reason, retry: retry})
			if retry {
				break
			}
			continue
		}
		out[i] = res[0]
		rec.addKeyID(keyIDOf(res[0]))
	}
	if errs != nil {
		return nil, errs
	}
	return out, nil
}

// wipe clears the data of decoded payloads that will not be sent.
func wipe(ps []*commonpb.Payload) {
	for _, p := range ps {
		if p != nil {
			clear(p.Data)
			for _, v := range p.Metadata {
				clear(v)
			}
		}
	}
}

// fail answers status with an [ErrorResponse]. msg must hold no request
// content and no internal error text.
func (h *Handler) fail(w http.ResponseWriter, rec *record, status int, outcome, msg string, perr []PayloadError) {
	rec.status, rec.outcome = status, outcome
	resp := ErrorResponse{Error: msg, RequestID: rec.id}
	if len(perr) > maxListedPayloadErrors {
		resp.MorePayloadErrors = len(perr) - maxListedPayloadErrors
		perr = perr[:maxListedPayloadErrors]
	}
	resp.PayloadErrors = perr
	if len(perr) > 0 && rec.detail == "" {
		rec.detail = summarize(perr)
	}
	b, _ := json.Marshal(resp) // cannot fail: strings and ints only
	h.write(w, rec, status, b)
}

// summarize lists failed indexes and reasons for the audit line.
func summarize(perr []PayloadError) string {
	var sb strings.Builder
	for i, e := range perr {
		if i == 8 {
			sb.WriteString("; …")
			break
		}
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString("payload ")
		sb.WriteString(strconv.Itoa(e.Index))
		sb.WriteString(": ")
		sb.WriteString(e.Reason)
	}
	return sb.String()
}
