package llm_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/agent"
	"github.com/temporal-encryption/temporal-encryption/agent/anthropic"
	"github.com/temporal-encryption/temporal-encryption/agent/llm"
	"github.com/temporal-encryption/temporal-encryption/agent/openai"
)

func TestNew(t *testing.T) {
	const key = "sk-llm-test-secret"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    any // type of the model, or nil for an error
		wantErr string
		desc    string
	}{
		{name: "default", want: agent.RulePlanner{}, desc: "offline"},
		{name: "openai from env", env: map[string]string{"AGENT_MODEL": "openai", "OPENAI_MODEL": "m1",
			"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": key},
			want: (*openai.Model)(nil), desc: "openai model m1 at http://127.0.0.1:9/v1 (key from $OPENAI_API_KEY)"},
		{name: "openai from flags", env: map[string]string{"MY_KEY": key},
			args: []string{"-model", "openai", "-model-name", "m2", "-model-key-env", "MY_KEY"},
			want: (*openai.Model)(nil), desc: "openai model m2 at https://api.openai.com/v1 (key from $MY_KEY)"},
		{name: "anthropic", env: map[string]string{"AGENT_MODEL": "anthropic", "ANTHROPIC_MODEL": "c1",
			"ANTHROPIC_API_KEY": key}, want: (*anthropic.Model)(nil), desc: "anthropic model c1"},
		{name: "openai without a name", env: map[string]string{"AGENT_MODEL": "openai", "OPENAI_API_KEY": key},
			wantErr: "OPENAI_MODEL"},
		{name: "openai without a key", env: map[string]string{"AGENT_MODEL": "openai", "OPENAI_MODEL": "m"},
			wantErr: "OPENAI_API_KEY is not set"},
		{name: "unknown provider", args: []string{"-model", "oracle"}, wantErr: "unknown model provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			c := llm.Config{Getenv: getenv}
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			c.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			m, err := llm.New(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %T, %v; want an error containing %q", m, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			switch tt.want.(type) {
			case agent.RulePlanner:
				_, ok := m.(agent.RulePlanner)
				if !ok {
					t.Errorf("New = %T, want agent.RulePlanner", m)
				}
			case *openai.Model:
				if _, ok := m.(*openai.Model); !ok {
					t.Errorf("New = %T, want *openai.Model", m)
				}
			case *anthropic.Model:
				if _, ok := m.(*anthropic.Model); !ok {
					t.Errorf("New = %T, want *anthropic.Model", m)
				}
			}
			if d := c.String(); !strings.Contains(d, tt.desc) || strings.Contains(d, key) {
				t.Errorf("String() = %q, want it to contain %q and not the key", d, tt.desc)
			}
		})
	}
}
