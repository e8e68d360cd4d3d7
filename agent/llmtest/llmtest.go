// Package llmtest serves fake model APIs on 127.0.0.1 for tests: an
// OpenAI-compatible chat completions endpoint and an Anthropic messages
// endpoint. Each speaks its real wire protocol (JSON bodies, tool calls,
// authentication headers, error bodies) and answers with an [agent.Model]
// behind it, usually the deterministic [agent.RulePlanner], so a workflow
// run through a provider and the fake gives the same answer as one run
// with the planner directly.
//
// A test can queue faults (an HTTP status with headers and body) that the
// next requests get instead of an answer, to exercise rate limiting and
// outages. The server checks the API key and the shape of every request the
// way the real services do, and answers 401 or 400 otherwise.
//
// The 401 body quotes the key it was given, in full: worse than the real
// services, which quote part of it, so a test can check that the provider
// never passes a service's error text on.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/temporal-encryption/temporal-encryption/agent"
)

// maxBody caps a request body the fake reads.
const maxBody = 4 << 20

// Fault is an answer the fake gives instead of a completion.
type Fault struct {
	// Status is the HTTP status, such as 429.
	Status int

	// Header is added to the response, such as Retry-After.
	Header http.Header

	// Body is the response body. Default: an error body in the protocol's
	// format with a type that fits the status.
	Body string
}

// Server is a fake model service. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to configure the provider with: ".../v1" for
	// OpenAI, the bare address for Anthropic (whose client adds "/v1").
	URL string

	srv   *httptest.Server
	model agent.Model
	key   string

	mu       sync.Mutex
	faults   []Fault
	requests int
	answered int
	bodies   [][]byte
}

// NewOpenAI starts a fake chat completions API that accepts key as a bearer
// token and answers with model. Close it when done.
func NewOpenAI(model agent.Model, key string) *Server {
	s := &Server{model: model, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.openAI)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		openAIError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/v1"
	return s
}

// NewAnthropic starts a fake messages API that accepts key in x-api-key or
// as a bearer token, and answers with model. Close it when done.
func NewAnthropic(model agent.Model, key string) *Server {
	s := &Server{model: model, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/messages", s.anthropic)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		anthropicError(w, http.StatusNotFound, "not_found_error", "Not found")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Fail queues faults: the next len(faults) requests get them, in order,
// before their key or body is even looked at.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Requests returns how many requests arrived; Answered how many got a
// completion.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Answered returns how many requests got a completion.
func (s *Server) Answered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered
}

// Bodies returns a copy of every request body received, in order.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.bodies))
	for i, b := range s.bodies {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// begin counts the request, keeps its body and returns the next fault, if
// any is queued.
func (s *Server) begin(r *http.Request) ([]byte, *Fault, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.bodies = append(s.bodies, body)
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return body, &f, nil
	}
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("body over %d bytes", maxBody)
	}
	return body, nil, err
}

func (s *Server) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answered++
}

func writeFault(w http.ResponseWriter, f *Fault, defaultBody func() string) {
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := f.Body
	if body == "" {
		body = defaultBody()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// text reads message content that is either a string or a list of
// {"type":"text","text":...} parts.
func text(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("content is neither a string nor a list of parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part of type %q", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// tokens is a rough token count for the usage fields.
func tokens(n int) int { return n/4 + 1 }
