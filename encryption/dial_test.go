package encryption_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/encryption"
)

const testKey = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"

func TestLoadClientOptions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "temporal.toml")
	err := os.WriteFile(file, []byte(`
[profile.default]
address = "file-default:7233"
namespace = "from-file"

[profile.prod]
address = "prod.example.com:7233"
namespace = "prod"
api_key = "file-api-key"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	noFile := "TEMPORAL_CONFIG_FILE=" + filepath.Join(dir, "missing.toml")
	key := "TEMPORAL_ENCRYPTION_KEY=" + testKey

	tests := []struct {
		name          string
		env           []string
		wantHost      string
		wantNamespace string
		wantTLS       bool
		wantCreds     bool
	}{
		{"defaults", []string{noFile, key}, "", "", false, false},
		{"environment", []string{noFile, key, "TEMPORAL_ADDRESS=env:7233", "TEMPORAL_NAMESPACE=env-ns"},
			"env:7233", "env-ns", false, false},
		{"api key turns TLS on", []string{noFile, key, "TEMPORAL_API_KEY=secret-api-key"},
			"", "", true, true},
		{"TLS off", []string{noFile, key, "TEMPORAL_API_KEY=secret-api-key", "TEMPORAL_TLS=false"},
			"", "", false, true},
		{"file default profile", []string{"TEMPORAL_CONFIG_FILE=" + file, key},
			"file-default:7233", "from-file", false, false},
		{"file profile", []string{"TEMPORAL_CONFIG_FILE=" + file, "TEMPORAL_PROFILE=prod", key},
			"prod.example.com:7233", "prod", true, true},
		{"environment over file", []string{"TEMPORAL_CONFIG_FILE=" + file, key, "TEMPORAL_NAMESPACE=env-ns"},
			"file-default:7233", "env-ns", false, false},
		{"last entry wins", []string{noFile, key, "TEMPORAL_ADDRESS=a:1", "TEMPORAL_ADDRESS=b:2"},
			"b:2", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := encryption.LoadClientOptions(encryption.WithEnviron(tt.env))
			if err != nil {
				t.Fatalf("LoadClientOptions: %v", err)
			}
			if o.HostPort != tt.wantHost || o.Namespace != tt.wantNamespace {
				t.Errorf("address %q namespace %q, want %q %q",
					o.HostPort, o.Namespace, tt.wantHost, tt.wantNamespace)
			}
			if got := o.ConnectionOptions.TLS != nil; got != tt.wantTLS {
				t.Errorf("TLS on = %v, want %v", got, tt.wantTLS)
			}
			if got := o.Credentials != nil; got != tt.wantCreds {
				t.Errorf("credentials set = %v, want %v", got, tt.wantCreds)
			}
			if len(o.Plugins) != 1 || o.Plugins[0].Name() != encryption.PluginName {
				t.Fatalf("plugins = %v, want the encryption plugin alone", o.Plugins)
			}
			p := o.Plugins[0].(*encryption.Plugin)
			checkEncrypts(t, p.DataConverter(), "default-key")
		})
	}
}

func TestLoadClientOptionsErrors(t *testing.T) {
	noFile := "TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "missing.toml")
	short := testKey[:40]
	badFile := filepath.Join(t.TempDir(), "bad.toml")
	// An unquoted value: the TOML parser's message quotes it.
	toml := "[profile.default]\naddress = \"a:1\"\napi_key = API-KEY-" + short + "\n"
	err := os.WriteFile(badFile, []byte(toml), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []encryption.Option
		want string
	}{
		{"no key", []encryption.Option{encryption.WithEnviron([]string{noFile})},
			"TEMPORAL_ENCRYPTION_KEY is not set"},
		{"short key", []encryption.Option{
			encryption.WithEnviron([]string{noFile, "TEMPORAL_ENCRYPTION_KEY=" + short}),
		}, "TEMPORAL_ENCRYPTION_KEY"},
		{"missing profile", []encryption.Option{encryption.WithEnviron([]string{
			noFile, "TEMPORAL_PROFILE=nope", "TEMPORAL_ENCRYPTION_KEY=" + testKey,
		})}, "profile nope"},
		{"bad codec option", []encryption.Option{
			encryption.WithEnviron([]string{noFile, "TEMPORAL_ENCRYPTION_KEY=" + testKey}),
			encryption.WithCodecOptions(codec.WithMaxPayloadSize(-1)),
		}, "WithMaxPayloadSize"},
		{"bad environ", []encryption.Option{encryption.WithEnviron([]string{"NOEQUALS"})}, "without '='"},
		{"malformed file", []encryption.Option{encryption.WithEnviron([]string{
			"TEMPORAL_CONFIG_FILE=" + badFile, "TEMPORAL_ENCRYPTION_KEY=" + testKey,
		})}, `TOML syntax error at line 3 (key "profile.default.api_key")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encryption.LoadClientOptions(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadClientOptions error = %v, want one mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), short) {
				t.Fatalf("error %q contains key material", err)
			}
		})
	}
}

func TestLoadClientOptionsKeySourceAndAdjust(t *testing.T) {
	ring := keyring(t, "from-source")
	o, err := encryption.LoadClientOptions(
		encryption.WithEnviron([]string{"TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none")}),
		encryption.WithKeySource(ring),
		encryption.WithClientOptions(func(o *client.Options) { o.Identity = "first" }),
		encryption.WithClientOptions(func(o *client.Options) { o.Identity += "+second" }),
	)
	if err != nil {
		t.Fatalf("LoadClientOptions: %v", err)
	}
	if o.Identity != "first+second" {
		t.Errorf("Identity = %q, want both adjustments in order", o.Identity)
	}
	checkEncrypts(t, o.Plugins[0].(*encryption.Plugin).DataConverter(), "from-source")
}

func TestDialFailsWithoutServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := encryption.Dial(ctx, encryption.WithEnviron([]string{
		"TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"TEMPORAL_ADDRESS=127.0.0.1:1",
		"TEMPORAL_ENCRYPTION_KEY=" + testKey,
	}))
	if err == nil || !strings.Contains(err.Error(), "encryption: dial 127.0.0.1:1") {
		t.Fatalf("Dial = %v, want a dial error naming the address", err)
	}
}
