package agent

import (
	"slices"
	"testing"
)

func TestParsePositions(t *testing.T) {
	got, err := ParsePositions(" aapl:40@175.5, MSFT:15 ")
	want := []Position{{"AAPL", 40, 175.5}, {"MSFT", 15, 0}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParsePositions = %v, %v; want %v", got, err, want)
	}
	if got, err := ParsePositions(""); err != nil || got != nil {
		t.Errorf("ParsePositions(\"\") = %v, %v; want nothing", got, err)
	}
	for _, bad := range []string{"AAPL", "AAPL:x", "AAPL:0", "AAPL:-1", "AAPL:1@x", "AAPL:1@NaN",
		"TOOLONG:1", "A1:1", "AAPL:1,AAPL:2", "AAPL:1,,MSFT:1"} {
		if got, err := ParsePositions(bad); err == nil {
			t.Errorf("ParsePositions(%q) = %v, want an error", bad, got)
		}
	}
}
