package integration

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/llmtest"
	"github.com/temporal-encryption/temporal-encryption/agent/openai"
	"github.com/temporal-encryption/temporal-encryption/audit"
)

// TestProviderKeyNeverInHistory runs the workflow with the OpenAI provider
// against a fake service, with a rate limit and an outage on the first
// model call, and searches everything the server holds for the API key:
// the raw history and description as a codec-less client sees them, and
// every payload in them once decrypted.
func TestProviderKeyNeverInHistory(t *testing.T) {
	needServer(t)
	key := "sk-it-" + random(t) + "-secret"
	t.Setenv(openai.DefaultAPIKeyEnv, key)

	fake := llmtest.NewOpenAI(agent.RulePlanner{}, key)
	defer fake.Close()
	fake.Fail(
		llmtest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}},
		llmtest.Fault{Status: http.StatusInternalServerError},
	)
	model, err := openai.New(openai.Options{BaseURL: fake.URL, Model: "gpt-fake"})
	if err != nil {
		t.Fatal(err)
	}
	k := newKeys(t)
	c := dial(t, k)
	tq := "it-provider-" + random(t)
	startWorker(t, c, tq, model, newBroker(t, agent.PaperBrokerOptions{}))

	req := request(t)
	id := "it-provider-" + random(t)
	wr := start(t, c, tq, id, req)
	res, err := result(t, wr, time.Minute)
	if err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if want := reference(t, id, req); !reflect.DeepEqual(res, want) {
		t.Errorf("result through the provider differs from the planner's:\n got %+v\nwant %+v", res, want)
	}
	if got, want := fake.Requests(), fake.Answered()+2; got != want {
		t.Errorf("fake saw %d requests for %d answers, want 2 failed attempts retried by Temporal", got, fake.Answered())
	}
	for i, b := range fake.Bodies() {
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("request %d to the model carried the key in its body", i)
		}
	}

	pts := checkNoKey(t, k, id, wr.GetRunID(), key, req.Account.ID)
	if !anyContains(pts, "HTTP 500") {
		t.Error("the outage's error is not in the decrypted history; the retry was not recorded")
	}

	t.Run("wrong key", func(t *testing.T) {
		wrong := "sk-it-wrong-" + random(t)
		t.Setenv(openai.DefaultAPIKeyEnv, wrong) // read by the worker on the next call
		id := "it-provider-401-" + random(t)
		wr := start(t, c, tq, id, req)
		_, err := result(t, wr, time.Minute)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != agent.ErrTypeModelAuth {
			t.Fatalf("workflow with a wrong key = %v, want a %s failure", err, agent.ErrTypeModelAuth)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("workflow error quotes the key: %v", err)
		}
		checkNoKey(t, k, id, wr.GetRunID(), wrong, req.Account.ID)
		checkNoKey(t, k, id, wr.GetRunID(), key, req.Account.ID)
	})
}

// checkNoKey fails t if key is anywhere in the run, raw or decrypted, and
// returns the decrypted payloads. present must be in them, to show the
// decryption worked.
func checkNoKey(t *testing.T, k keys, id, runID, key, present string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := audit.Workflow(ctx, server.Client(), id, runID, key, present)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if !r.OK() {
		t.Errorf("raw history of %s: %s\n%s", id, r.Verdict(), strings.Join(r.Findings(), "\n"))
	}
	pts := plaintext(t, k, id, runID)
	if anyContains(pts, key) {
		t.Errorf("the API key is in a decrypted payload of %s", id)
	}
	if !anyContains(pts, present) {
		t.Errorf("%q is in no decrypted payload of %s: the search proves nothing", present, id)
	}
	return pts
}

func anyContains(pts [][]byte, s string) bool {
	for _, p := range pts {
		if bytes.Contains(p, []byte(s)) {
			return true
		}
	}
	return false
}
