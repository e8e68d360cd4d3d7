package codecserver_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codec/envkey"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// A codec server for a Web UI at https://temporal.example.com, admitting
// only holders of a static token, which may decode in namespace "default".
// In production, load the keys from a KMS-backed key source, give the
// handler a logger, and serve it with Handler.Serve.
func ExampleNewHandler() {
	key, err := envkey.Generate()
	if err != nil {
		log.Fatal(err)
	}
	keys, err := envkey.LoadFrom(func(name string) string {
		if name == envkey.VarKey {
			return key
		}
		return ""
	})
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := codecserver.NewTokenAuthenticator([]codecserver.Token{{
		Name:       "web-ui",
		Token:      "a-long-random-token-from-a-secret-store",
		Namespaces: []string{"default"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	h, err := codecserver.NewHandler(c,
		codecserver.WithAllowedOrigins("https://temporal.example.com"),
		codecserver.WithAuthenticator(tokens),
		codecserver.WithEncode(false))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	call := func(path, token string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(
			`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode)
	}
	call("/default/decode", "a-long-random-token-from-a-secret-store")
	call("/default/decode", "")
	call("/other/decode", "a-long-random-token-from-a-secret-store")
	call("/default/encode", "a-long-random-token-from-a-secret-store")
	// Output:
	// /default/decode 200
	// /default/decode 401
	// /other/decode 403
	// /default/encode 403
}
