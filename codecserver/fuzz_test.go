package codecserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/temporal-encryption/temporal-encryption/codec"
	"github.com/temporal-encryption/temporal-encryption/codecserver"
)

// FuzzHandler sends arbitrary paths, namespace headers and bodies. The
// handler must never panic, never answer 5xx for request input (the codec's
// key source here is always up), always answer JSON, and never echo a
// decoded payload without answering 200.
func FuzzHandler(f *testing.F) {
	k := newKey(f, "k1")
	c := newCodec(f, []*codec.Key{k})
	h, err := codecserver.NewHandler(c, codecserver.WithMaxBodySize(64<<10), codecserver.WithMaxPayloads(50))
	if err != nil {
		f.Fatal(err)
	}
	secret := jsonPayload(f, "CANARY-fuzz")
	enc := body(f, encode(f, c, "default", secret)...)
	for _, seed := range []struct{ path, ns, body string }{
		{"/decode", "", enc},
		{"/default/decode", "default", enc},
		{"/a/b/encode/", "", body(f, secret)},
		{"/decode", "x", `{"payloads":[{"data":"!!"}]}`},
		{"//decode", "", `{}`},
		{"/ns/decode", "", `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="}}]}`},
		{"/decode", "", strings.Repeat("[", 1000)},
	} {
		f.Add(seed.path, seed.ns, seed.body)
	}
	f.Fuzz(func(t *testing.T, path, ns, reqBody string) {
		u, err := url.Parse("http://codec.test" + path)
		if err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\r\n\t") {
			return
		}
		req := httptest.NewRequest(http.MethodPost, u.String(), strings.NewReader(reqBody))
		req.Header.Set("Content-Type", "application/json")
		if ns != "" && !strings.ContainsAny(ns, "\r\n") {
			req.Header.Set("X-Namespace", ns)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %q (X-Namespace %q) = %d: %s", path, ns, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if w.Code != 200 && strings.Contains(w.Body.String(), `"payloads":[`) {
			t.Fatalf("error answer carries payloads: %s", w.Body)
		}
	})
}
