package e2e_test

import (
	"math"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/bench"
	"github.com/temporal-encryption/temporal-encryption/bench/e2e"
	"github.com/temporal-encryption/temporal-encryption/codec"
)

// TestWorkflowThroughCodec runs the benchmark's workflow in the SDK's test
// environment with the encrypting data converter, so a broken workflow
// shows up in go test rather than half-way through make bench.
func TestWorkflowThroughCodec(t *testing.T) {
	k, err := codec.NewKey("test", aead.AES256GCM, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetDataConverter(codec.NewDataConverter(c))
	e2e.Register(env, e2e.NewActivities())

	in := e2e.Input{Account: "ACCT-1", Transcript: bench.Data(bench.Agent, 4<<10)}
	env.ExecuteWorkflow(e2e.Workflow, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var out e2e.Output
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if out.Account != in.Account || len(out.Orders) != 2<<10 {
		t.Errorf("workflow returned account %q and %d bytes of orders, want %q and 2048",
			out.Account, len(out.Orders), in.Account)
	}
}

func TestOverheadPercent(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name             string
		plain, encrypted []time.Duration
		want             float64
	}{
		{"equal", ms(10, 20), ms(10, 20), 0},
		{"paired by round", ms(100, 50, 200), ms(102, 55, 208), 4},
		{"drift cancels", ms(10, 20, 40), ms(11, 22, 44), 10},
		{"unpaired round ignored", ms(10, 10), ms(11), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e2e.Result{Plain: tt.plain, Encrypted: tt.encrypted}
			if got := r.OverheadPercent(); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("OverheadPercent() = %v, want %v", got, tt.want)
			}
		})
	}
}
