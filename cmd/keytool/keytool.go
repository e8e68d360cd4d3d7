package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/temporal-encryption/temporal-encryption/aead"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

// EnvKeyring names the variable that gives -keyring its default.
const EnvKeyring = "TEMPORAL_ENCRYPTION_KEYRING"

const usage = `usage: keytool <command> [flags]

commands:
  generate  print a new random key (hex) for TEMPORAL_ENCRYPTION_KEY
  init      create a keyring file with one primary key
  add       add a new decrypt-only key to a keyring file
  promote   make a key primary (the old primary becomes decrypt-only)
  retire    disable a decrypt-only key
  enable    make a disabled key decrypt-only again
  remove    delete a disabled key for good
  show      list a keyring's keys, without their material
  scan      count the key IDs that workflow histories on a server use

run keytool <command> -h for its flags`

// now is the clock for key creation times; tests replace it.
var now = time.Now

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return cli.WithHint(errors.New("no command"), "run keytool help for the commands")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "generate":
		return generate(rest, stdout)
	case "init", "add":
		return addKey(cmd, rest, stdout)
	case "promote", "retire", "enable", "remove":
		return editKey(cmd, rest, stdout)
	case "show":
		return show(rest, stdout)
	case "scan":
		return scan(rest, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return cli.WithHint(fmt.Errorf("unknown command %q", cmd), "run keytool help for the commands")
}

func generate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keytool generate", flag.ContinueOnError)
	alg := fs.String("algorithm", string(aead.AES256GCM), "algorithm the key is for: "+algorithmNames())
	enc := fs.String("encoding", "hex", "hex or base64")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	a, err := aead.Lookup(aead.ID(*alg))
	if err != nil {
		return cli.WithHint(err, "use one of "+algorithmNames())
	}
	key := make([]byte, a.KeySize())
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("random source failed: %w", err)
	}
	switch *enc {
	case "hex":
		fmt.Fprintln(stdout, hex.EncodeToString(key))
	case "base64":
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(key))
	default:
		return cli.WithHint(fmt.Errorf("unknown encoding %q", *enc), "use hex or base64")
	}
	return nil
}

func keyringFlag(fs *flag.FlagSet) *string {
	return fs.String("keyring", os.Getenv(EnvKeyring), "keyring file (env "+EnvKeyring+")")
}

func needKeyring(path string) error {
	if path == "" {
		return cli.WithHint(errors.New("no keyring file"), "pass -keyring FILE or set "+EnvKeyring)
	}
	return nil
}

// addKey is init (a new file with one primary key) and add (a decrypt-only
// key in an existing file).
func addKey(cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keytool "+cmd, flag.ContinueOnError)
	path := keyringFlag(fs)
	id := fs.String("id", "", "key ID (default k-YYYYMMDD-xxxx)")
	alg := fs.String("algorithm", string(aead.AES256GCM), "algorithm: "+algorithmNames())
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := needKeyring(*path); err != nil {
		return err
	}
	if *id == "" {
		*id = newID()
	}

	var f *keyring.File
	state := keyring.StateDecryptOnly
	if cmd == "init" {
		if _, err := os.Lstat(*path); err == nil {
			return cli.WithHint(fmt.Errorf("%s already exists", *path), "use keytool add to add a key to it")
		}
		f, state = &keyring.File{}, keyring.StatePrimary
	} else {
		var err error
		if f, err = keyring.ReadFile(*path); err != nil {
			return err
		}
	}
	defer f.Wipe()

	e, err := keyring.NewEntry(*id, aead.ID(*alg), state, now())
	if err != nil {
		return err
	}
	if err := f.Add(e); err != nil {
		clear(e.Material)
		return err
	}
	if err := keyring.WriteFile(*path, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added key %s (%s, %s) to %s\n", e.ID, e.Algorithm, e.State, *path)
	if cmd == "add" {
		fmt.Fprintf(stdout, "next: deploy %s to every worker and client, reload, then run keytool promote -id %s\n",
			*path, e.ID)
	}
	return nil
}

func editKey(cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keytool "+cmd, flag.ContinueOnError)
	path := keyringFlag(fs)
	id := fs.String("id", "", "key ID")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := needKeyring(*path); err != nil {
		return err
	}
	if *id == "" {
		return cli.WithHint(errors.New("no key ID"), "pass -id; keytool show lists the keys")
	}
	f, err := keyring.ReadFile(*path)
	if err != nil {
		return err
	}
	defer f.Wipe()

	var next string
	switch cmd {
	case "promote":
		err = f.Promote(*id)
		next = "deploy the file and reload every process; the old primary stays decrypt-only"
	case "retire":
		err = f.Retire(*id)
		next = "payloads under this key now fail to decode where the file is reloaded; keytool enable undoes it"
	case "enable":
		err = f.Enable(*id)
	case "remove":
		err = f.Remove(*id)
		next = "payloads under this key can no longer be decrypted by anyone holding only this file"
	}
	if err != nil {
		return err
	}
	if err := keyring.WriteFile(*path, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: key %s in %s\n", pastTense[cmd], *id, *path)
	if next != "" {
		fmt.Fprintln(stdout, "next: "+next)
	}
	return nil
}

var pastTense = map[string]string{
	"promote": "promoted", "retire": "retired", "enable": "enabled", "remove": "removed",
}

func show(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keytool show", flag.ContinueOnError)
	path := keyringFlag(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := needKeyring(*path); err != nil {
		return err
	}
	f, err := keyring.ReadFile(*path)
	if err != nil {
		return err
	}
	defer f.Wipe()

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALGORITHM\tSTATE\tCREATED\tFINGERPRINT")
	for _, e := range f.Keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Algorithm, e.State,
			e.Created.UTC().Format(time.RFC3339), fingerprint(e.Material))
	}
	return tw.Flush()
}

// fingerprint is a short hash of a key, to compare copies of a keyring
// across machines. Eight bytes of SHA-256 reveal nothing usable about a
// random key of 16 or more bytes.
func fingerprint(material []byte) string {
	h := sha256.New()
	h.Write([]byte("temporal-encryption/key-fingerprint\x00"))
	h.Write(material)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func newID() string {
	var b [2]byte
	rand.Read(b[:])
	return "k-" + now().UTC().Format("20060102") + "-" + hex.EncodeToString(b[:])
}

func algorithmNames() string {
	var names []string
	for _, a := range aead.All() {
		names = append(names, string(a.ID()))
	}
	return strings.Join(names, ", ")
}
