package aead_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
)

// The Wycheproof vectors come from the C2SP repository's Go module, fetched
// through the Go module proxy into the module cache, as any dependency is.
// It is not required in go.mod: its go.mod asks for Go 1.26.4, which would
// raise the minimum Go version of every user of this module for the sake of
// a test. Instead the test runs "go mod download" outside any module and
// checks the module's hash against wycheproofSum, the value the Go checksum
// database records for this version, so the files read are exactly the
// ones published.
const (
	wycheproofModule  = "github.com/c2sp/wycheproof"
	wycheproofVersion = "v0.0.0-20260902155932-3fa63dd0344a"
	wycheproofSum     = "h1:pNbL2nztRsWfW/ispAwsvcDFxs9Id38uIsR2/Up5G2c="
)

// wycheproofFiles maps each vector file to the backend for each key size
// (in bits) that it tests. Key sizes not listed are skipped.
var wycheproofFiles = []struct {
	name  string
	byKey map[int]aead.ID
}{
	{"aes_gcm_test.json", map[int]aead.ID{128: aead.AES128GCM, 256: aead.AES256GCM}},
	{"chacha20_poly1305_test.json", map[int]aead.ID{256: aead.ChaCha20Poly1305}},
	{"xchacha20_poly1305_test.json", map[int]aead.ID{256: aead.XChaCha20Poly1305}},
}

// wycheproofAEADFile is the part of the aead_test_schema_v1 format this
// test reads.
type wycheproofAEADFile struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize int              `json:"keySize"` // bits
		IVSize  int              `json:"ivSize"`  // bits
		TagSize int              `json:"tagSize"` // bits
		Tests   []wycheproofAEAD `json:"tests"`
	} `json:"testGroups"`
}

type wycheproofAEAD struct {
	TCID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Key     hexBytes `json:"key"`
	IV      hexBytes `json:"iv"`
	AAD     hexBytes `json:"aad"`
	Msg     hexBytes `json:"msg"`
	CT      hexBytes `json:"ct"`
	Tag     hexBytes `json:"tag"`
	Result  string   `json:"result"` // "valid", "invalid" or "acceptable"
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := hex.DecodeString(s)
	*h = b
	return err
}

// wycheproofTally counts what happened to one backend's vectors.
type wycheproofTally struct {
	valid, invalid int
	skipped        map[string]int   // by reason
	sizes          map[string][]int // the parameter sizes behind each reason
}

func newTally() *wycheproofTally {
	return &wycheproofTally{skipped: make(map[string]int), sizes: make(map[string][]int)}
}

// skip counts a vector skipped for reason; size is the parameter, in bits,
// that made it inexpressible.
func (n *wycheproofTally) skip(reason string, size int) {
	n.skipped[reason]++
	if !slices.Contains(n.sizes[reason], size) {
		n.sizes[reason] = append(n.sizes[reason], size)
	}
}

func (n *wycheproofTally) totalSkipped() int {
	total := 0
	for _, c := range n.skipped {
		total += c
	}
	return total
}

func TestWycheproof(t *testing.T) {
	dir := wycheproofDir(t)

	tallies := make(map[aead.ID]*wycheproofTally)
	for _, a := range aead.All() {
		tallies[a.ID()] = newTally()
	}
	other := newTally()

	for _, file := range wycheproofFiles {
		t.Run(file.name, func(t *testing.T) {
			v := loadWycheproof(t, filepath.Join(dir, "testvectors_v1", file.name))
			for _, g := range v.TestGroups {
				id, ok := file.byKey[g.KeySize]
				if !ok {
					for range g.Tests {
						other.skip(v.Algorithm+" key size not offered", g.KeySize)
					}
					continue
				}
				a, err := aead.Lookup(id)
				if err != nil {
					t.Fatal(err)
				}
				for _, tc := range g.Tests {
					runWycheproof(t, a, g.IVSize, g.TagSize, tc, tallies[id])
				}
			}
		})
	}

	var run, skipped int
	for _, a := range aead.All() {
		n := tallies[a.ID()]
		if n.valid == 0 || n.invalid == 0 {
			t.Errorf("%s: %d valid and %d invalid Wycheproof vectors ran; want some of each",
				a.ID(), n.valid, n.invalid)
		}
		t.Logf("%-18s %3d vectors run (%d valid, %d invalid), %d skipped",
			a.ID(), n.valid+n.invalid, n.valid, n.invalid, n.totalSkipped())
		logSkipped(t, n)
		run += n.valid + n.invalid
		skipped += n.totalSkipped()
	}
	if other.totalSkipped() > 0 {
		t.Logf("%-18s %3d vectors skipped", "(no backend)", other.totalSkipped())
		logSkipped(t, other)
		skipped += other.totalSkipped()
	}
	t.Logf("Wycheproof %s@%s: %d vectors run over %d algorithms, %d skipped",
		wycheproofModule, wycheproofVersion, run, len(aead.All()), skipped)
}

func logSkipped(t *testing.T, n *wycheproofTally) {
	t.Helper()
	for _, reason := range slices.Sorted(maps.Keys(n.skipped)) {
		t.Logf("%18s %3d skipped: %s (bits: %s)", "", n.skipped[reason], reason,
			strings.Trim(fmt.Sprint(slices.Sorted(slices.Values(n.sizes[reason]))), "[]"))
	}
}

// runWycheproof checks one vector against backend a: a valid vector must
// seal to its ciphertext and open to its message; an invalid one must not
// open. Vectors whose parameters a cannot take are counted as skipped.
func runWycheproof(t *testing.T, a aead.Algorithm, ivBits, tagBits int,
	tc wycheproofAEAD, n *wycheproofTally) {
	t.Helper()
	switch {
	case ivBits != 8*a.NonceSize():
		reason := fmt.Sprintf("nonce length other than the %d bits %s takes",
			8*a.NonceSize(), a.ID())
		n.skip(reason, ivBits)
		return
	case tagBits != 8*a.Overhead():
		reason := fmt.Sprintf("tag length other than the %d bits %s writes",
			8*a.Overhead(), a.ID())
		n.skip(reason, tagBits)
		return
	case tc.Result == "acceptable":
		n.skip(`result "acceptable": either outcome conforms`, 0)
		return
	}

	c := mustNew(t, a, tc.Key)
	sealed := append(slices.Clip(tc.CT), tc.Tag...)
	got, err := c.Open(nil, tc.IV, sealed, tc.AAD)
	switch tc.Result {
	case "valid":
		n.valid++
		if err != nil || !bytes.Equal(got, tc.Msg) {
			t.Errorf("tcId %d (%s): Open = %v; want the message", tc.TCID, tc.Comment, err)
		}
		if s := c.Seal(nil, tc.IV, tc.Msg, tc.AAD); !bytes.Equal(s, sealed) {
			t.Errorf("tcId %d (%s): Seal = %x, want %x", tc.TCID, tc.Comment, s, sealed)
		}
	case "invalid":
		n.invalid++
		if err == nil || got != nil {
			t.Errorf("tcId %d (%s, flags %v): Open succeeded; want an error",
				tc.TCID, tc.Comment, tc.Flags)
		}
	default:
		t.Errorf("tcId %d: unknown result %q", tc.TCID, tc.Result)
	}
}

func loadWycheproof(t *testing.T, path string) *wycheproofAEADFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v wycheproofAEADFile
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	total := 0
	for _, g := range v.TestGroups {
		total += len(g.Tests)
	}
	if total == 0 || total != v.NumberOfTests {
		t.Fatalf("%s: read %d vectors, file says %d", filepath.Base(path), total, v.NumberOfTests)
	}
	return &v
}

var wycheproof struct {
	once sync.Once
	dir  string
	err  error
}

// wycheproofDir returns the directory of the Wycheproof module in the module
// cache, downloading it through the module proxy the first time.
func wycheproofDir(t *testing.T) string {
	t.Helper()
	wycheproof.once.Do(func() {
		wycheproof.dir, wycheproof.err = downloadModule(t.TempDir(),
			wycheproofModule, wycheproofVersion, wycheproofSum)
	})
	if wycheproof.err != nil {
		t.Fatalf("Wycheproof vectors: %v\n"+
			"(they come through the Go module proxy; once downloaded, "+
			"the module cache serves them offline)",
			wycheproof.err)
	}
	return wycheproof.dir
}

// downloadModule runs "go mod download" in workDir, which must lie outside
// any module so that no go.mod or go.sum is touched, and returns the
// module's directory after checking its hash against sum.
func downloadModule(workDir, path, version, sum string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to fetch %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, goTool, "mod", "download", "-json", path+"@"+version)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()

	var m struct {
		Dir, Sum, Error string
	}
	if err := json.Unmarshal(out, &m); err != nil || runErr != nil || m.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s %s", path, version, runErr,
			m.Error, strings.TrimSpace(stderr.String()))
	}
	if m.Sum != sum {
		return "", fmt.Errorf("%s@%s has hash %s, want %s", path, version, m.Sum, sum)
	}
	return m.Dir, nil
}
