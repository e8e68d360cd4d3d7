package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"
)

func TestReport(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		out  string
	}{
		{"nil", nil, 0, ""},
		{"help", flag.ErrHelp, 0, ""},
		{"plain", errors.New("boom"), 1, "prog: error: boom\n"},
		{"hint", WithHint(errors.New("boom"), "try again"), 1, "prog: error: boom\nprog: hint: try again\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if code := Report(&b, "prog", tt.err); code != tt.code || b.String() != tt.out {
				t.Errorf("Report(%v) = %d, %q; want %d, %q", tt.err, code, b.String(), tt.code, tt.out)
			}
		})
	}
	if WithHint(nil, "x") != nil {
		t.Error("WithHint(nil) != nil")
	}
}

func TestParse(t *testing.T) {
	newFS := func() (*flag.FlagSet, *Conn) {
		fs := flag.NewFlagSet("prog", flag.ContinueOnError)
		var c Conn
		c.AddFlags(fs)
		return fs, &c
	}

	t.Setenv(EnvAddress, "127.0.0.9:1")
	t.Setenv(EnvNamespace, "")
	fs, c := newFS()
	if err := Parse(fs, nil); err != nil || c.Address != "127.0.0.9:1" || c.Namespace != DefaultNamespace {
		t.Errorf("Parse() = %v with %+v, want the address from %s and the default namespace", err, c, EnvAddress)
	}
	fs, c = newFS()
	if err := Parse(fs, []string{"-address", "127.0.0.1:2"}); err != nil || c.Address != "127.0.0.1:2" {
		t.Errorf("Parse(-address) = %v with %+v, want the flag to win", err, c)
	}

	for _, args := range [][]string{{"-nope"}, {"extra"}} {
		fs, _ := newFS()
		err := Parse(fs, args)
		var e *Error
		if !errors.As(err, &e) || e.Hint == "" {
			t.Errorf("Parse(%q) = %v, want an error with a hint", args, err)
		}
	}
}
