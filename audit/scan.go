package audit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/temporal-encryption/temporal-encryption/codec"
)

// Sources of a [Location].
const (
	SourceHistory  = "history"
	SourceDescribe = "describe"
)

// MaxCanaries caps the canaries of one [Scanner]; MaxCanaryBytes caps each.
const (
	MaxCanaries    = 256
	MaxCanaryBytes = 4096
)

// maxDepth bounds the walk; Temporal messages nest a few dozen levels at
// most, so deeper input is hostile or broken.
const maxDepth = 100

var (
	payloadName          = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()
	searchAttributesName = (&commonpb.SearchAttributes{}).ProtoReflect().Descriptor().FullName()
	failureName          = (&failurepb.Failure{}).ProtoReflect().Descriptor().FullName()
	anyName              = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
)

// Location says which scanned message a finding is in.
type Location struct {
	// Source is SourceHistory or SourceDescribe, or what the caller of
	// [Scanner.Scan] named.
	Source string

	// EventID and EventType identify a history event; both are zero for
	// other messages. EventType reads like "ActivityTaskScheduled".
	EventID   int64
	EventType string
}

func (l Location) String() string {
	if l.EventID != 0 {
		return fmt.Sprintf("%s event %d (%s)", l.Source, l.EventID, l.EventType)
	}
	return l.Source
}

// Payload describes one payload found. It holds no payload data.
type Payload struct {
	Location

	// Path is the field path from the scanned message to the payload, such
	// as "activity_task_scheduled_event_attributes.input.payloads[0]".
	Path string

	// Encoding is metadata["encoding"]; Encrypted reports whether it is
	// codec.EncodingEncrypted.
	Encoding  string
	Encrypted bool

	// KeyID and Algorithm are the codec's metadata, empty when absent.
	KeyID     string
	Algorithm string

	// Size is the length of the payload's data in bytes.
	Size int
}

func (p Payload) String() string {
	enc := p.Encoding
	if enc == "" {
		enc = "no encoding"
	}
	return fmt.Sprintf("%s %s: %s, %d bytes", p.Location, p.Path, enc, p.Size)
}

// Failure is a failure an SDK wrote with its message or stack trace in
// plaintext. It holds no failure text.
type Failure struct {
	Location
	Path string

	// Source is the failure's source, such as "GoSDK".
	Source string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s %s: failure from %s has a plaintext message or stack trace",
		f.Location, f.Path, f.Source)
}

// CanaryHit is one place a canary was found.
type CanaryHit struct {
	Location

	// Canary is the string found, as the caller gave it.
	Canary string

	// Path names the string, bytes or payload field that holds the canary,
	// or is empty when it was found only in the message's serialized bytes
	// (across field boundaries, or in fields this build does not know).
	Path string
}

func (h CanaryHit) String() string {
	if h.Path == "" {
		return fmt.Sprintf("%s: canary %q in the serialized message", h.Location, h.Canary)
	}
	return fmt.Sprintf("%s %s: canary %q", h.Location, h.Path, h.Canary)
}

// Scanner collects payloads, plaintext failures and canary hits from the
// Temporal API messages it is given. It is not safe for concurrent use.
type Scanner struct {
	canaries [][]byte
	report   Report
	hits     []CanaryHit // hits in the message being scanned
}

// NewScanner returns a scanner that looks for canaries. Each canary must be
// 1 to MaxCanaryBytes bytes; at most MaxCanaries are allowed.
func NewScanner(canaries ...string) (*Scanner, error) {
	if len(canaries) > MaxCanaries {
		return nil, fmt.Errorf("audit: %d canaries, limit %d", len(canaries), MaxCanaries)
	}
	s := &Scanner{}
	for i, c := range canaries {
		if len(c) == 0 || len(c) > MaxCanaryBytes {
			return nil, fmt.Errorf("audit: canary %d must be 1-%d bytes", i, MaxCanaryBytes)
		}
		s.canaries = append(s.canaries, []byte(c))
		s.report.Canaries = append(s.report.Canaries, c)
	}
	return s, nil
}

// ScanEvent scans one history event.
func (s *Scanner) ScanEvent(e *historypb.HistoryEvent) error {
	if e == nil {
		return errors.New("audit: nil history event")
	}
	s.report.Events++
	return s.Scan(Location{
		Source:    SourceHistory,
		EventID:   e.GetEventId(),
		EventType: eventTypeName(e),
	}, e)
}

// Scan scans m, recording what it finds at loc.
func (s *Scanner) Scan(loc Location, m proto.Message) error {
	if m == nil {
		return errors.New("audit: nil message")
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("audit: %s: serialize: %w", loc, err)
	}

	s.hits = s.hits[:0]
	if err := s.walk(loc, nil, m.ProtoReflect(), false, 0); err != nil {
		return err
	}
	for i, c := range s.canaries {
		if bytes.Contains(raw, c) && !slices.ContainsFunc(s.hits, func(h CanaryHit) bool {
			return h.Canary == s.report.Canaries[i]
		}) {
			s.hits = append(s.hits, CanaryHit{Location: loc, Canary: s.report.Canaries[i]})
		}
	}
	s.report.CanaryHits = append(s.report.CanaryHits, s.hits...)
	return nil
}

// Report returns what the scanner found so far. The report is the
// scanner's; scanning more changes it.
func (s *Scanner) Report() *Report { return &s.report }

// walk visits every populated field of m in field-number order.
func (s *Scanner) walk(loc Location, path []string, m protoreflect.Message, inSA bool, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("audit: %s %s: messages nested deeper than %d", loc, join(path), maxDepth)
	}
	path = slices.Clip(path) // siblings append to path; never into a caller's array
	switch m.Descriptor().FullName() {
	case payloadName:
		s.payload(loc, path, m, inSA)
		return nil
	case searchAttributesName:
		inSA = true
	case failureName:
		s.failure(loc, path, m)
	case anyName:
		if a, ok := m.Interface().(*anypb.Any); ok {
			if inner, err := a.UnmarshalNew(); err == nil {
				p := append(path, "("+string(inner.ProtoReflect().Descriptor().FullName())+")")
				return s.walk(loc, p, inner.ProtoReflect(), inSA, depth+1)
			}
		}
	}

	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		name := string(fd.Name())
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			mp := v.Map()
			keys := make([]protoreflect.MapKey, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
				return strings.Compare(a.String(), b.String())
			})
			for _, k := range keys {
				p := append(path, name+"["+strconv.Quote(k.String())+"]")
				if err := s.value(loc, p, fd.MapValue(), mp.Get(k), inSA, depth); err != nil {
					return err
				}
			}
		case fd.IsList():
			l := v.List()
			for j := range l.Len() {
				p := append(path, name+"["+strconv.Itoa(j)+"]")
				if err := s.value(loc, p, fd, l.Get(j), inSA, depth); err != nil {
					return err
				}
			}
		default:
			if err := s.value(loc, append(path, name), fd, v, inSA, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// value visits one field value: it descends into messages and searches
// strings and bytes for canaries.
func (s *Scanner) value(loc Location, path []string, fd protoreflect.FieldDescriptor,
	v protoreflect.Value, inSA bool, depth int) error {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return s.walk(loc, path, v.Message(), inSA, depth+1)
	case protoreflect.StringKind:
		s.search(loc, path, []byte(v.String()))
	case protoreflect.BytesKind:
		s.search(loc, path, v.Bytes())
	}
	return nil
}

func (s *Scanner) search(loc Location, path []string, b []byte) {
	for i, c := range s.canaries {
		if bytes.Contains(b, c) {
			s.hits = append(s.hits, CanaryHit{Location: loc, Canary: s.report.Canaries[i], Path: join(path)})
		}
	}
}

func (s *Scanner) payload(loc Location, path []string, m protoreflect.Message, inSA bool) {
	p, ok := m.Interface().(*commonpb.Payload)
	if !ok {
		return
	}
	enc := string(p.GetMetadata()["encoding"])
	rec := Payload{
		Location:  loc,
		Path:      join(path),
		Encoding:  enc,
		Encrypted: enc == codec.EncodingEncrypted,
		Size:      len(p.GetData()),
	}
	if rec.Encrypted {
		rec.KeyID = string(p.GetMetadata()[codec.MetadataKeyID])
		rec.Algorithm = string(p.GetMetadata()[codec.MetadataAlgorithm])
	}
	if inSA {
		s.report.SearchAttributes = append(s.report.SearchAttributes, rec)
	} else {
		s.report.Payloads = append(s.report.Payloads, rec)
	}

	s.search(loc, append(path, "data"), p.GetData())
	keys := make([]string, 0, len(p.GetMetadata()))
	for k := range p.GetMetadata() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s.search(loc, append(path, "metadata["+strconv.Quote(k)+"]"), p.GetMetadata()[k])
	}
}

// failure records a failure an SDK wrote without encoding its message and
// stack trace. Failures the server writes (timeouts, terminations) carry
// no source and only the server's own text.
func (s *Scanner) failure(loc Location, path []string, m protoreflect.Message) {
	f, ok := m.Interface().(*failurepb.Failure)
	if !ok || f.GetSource() == "" || f.GetEncodedAttributes() != nil {
		return
	}
	if f.GetMessage() != "" || f.GetStackTrace() != "" {
		s.report.Failures = append(s.report.Failures, Failure{Location: loc, Path: join(path),
			Source: f.GetSource()})
	}
}

func join(path []string) string {
	if len(path) == 0 {
		return "(message)"
	}
	return strings.Join(path, ".")
}

// eventTypeName returns an event type as ActivityTaskScheduled. The API's
// enums print that way already; the proto name EVENT_TYPE_ACTIVITY_TASK_
// SCHEDULED is converted in case a build prints the other form.
func eventTypeName(e *historypb.HistoryEvent) string {
	name := e.GetEventType().String()
	if !strings.Contains(name, "_") {
		return name
	}
	name = strings.TrimPrefix(name, "EVENT_TYPE_")
	var b strings.Builder
	for w := range strings.SplitSeq(strings.ToLower(name), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
