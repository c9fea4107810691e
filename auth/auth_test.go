package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the parameters travel in the hash.
var cheap = Params{Time: 1, MemoryKiB: 64, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	for _, p := range []Params{cheap, {}} {
		h, err := HashPassword("correct horse", p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$") {
			t.Errorf("hash %q is not an argon2id PHC string", h)
		}
		if p == (Params{}) && !strings.Contains(h, "$m=19456,t=2,p=1$") {
			t.Errorf("zero params did not give the defaults: %q", h)
		}
		for _, tc := range []struct {
			pw   string
			want bool
		}{{"correct horse", true}, {"correct horse ", false}, {"", false}, {"Correct horse", false}} {
			ok, err := VerifyPassword(h, tc.pw)
			if err != nil || ok != tc.want {
				t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
			}
		}
	}
	a, _ := HashPassword("x", cheap)
	b, _ := HashPassword("x", cheap)
	if a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashPassword("pw", cheap)
	f := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":       "",
		"bcrypt":      "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
		"version":     strings.Replace(good, "v=19", "v=16", 1),
		"no params":   strings.Join([]string{"", f[1], f[2], "", f[4], f[5]}, "$"),
		"zero time":   strings.Replace(good, "t=1", "t=0", 1),
		"huge memory": strings.Replace(good, "m=64", "m=99999999", 1),
		"bad salt":    strings.Join([]string{"", f[1], f[2], f[3], "!!", f[5]}, "$"),
		"short key":   strings.Join([]string{"", f[1], f[2], f[3], f[4], "AAAA"}, "$"),
		"extra field": good + "$x",
		"unknown key": strings.Replace(good, "p=1", "q=1", 1),
	} {
		if ok, err := VerifyPassword(h, "pw"); ok || !errors.Is(err, ErrHash) {
			t.Errorf("%s: VerifyPassword = %v, %v; want false, ErrHash", name, ok, err)
		}
	}
}

func TestHashPasswordBadParams(t *testing.T) {
	if _, err := HashPassword("x", Params{Time: 1, MemoryKiB: 4, Threads: 1}); err == nil {
		t.Error("memory below 8 KiB per lane was accepted")
	}
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{{"admin", Admin, true}, {"supervisor", Supervisor, true}, {"agent", Agent, true}, {"Admin", "", false}, {"", "", false}} {
		r, err := ParseRole(tc.in)
		if r != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseRole(%q) = %q, %v", tc.in, r, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	s1, s2 := NewSecret(), NewSecret()
	if len(s1) != 43 || s1 == s2 {
		t.Errorf("secrets %q %q: want 43 characters, different", s1, s2)
	}
	tok, hash := NewToken()
	if !strings.HasPrefix(tok, TokenPrefix) || hash != HashSecret(tok) || len(hash) != 64 {
		t.Errorf("token %q hash %q", tok, hash)
	}
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 20 || strings.Trim(p, passwordAlphabet) != "" || seen[p] {
			t.Fatalf("generated password %q", p)
		}
		seen[p] = true
	}
}

func TestHasExtension(t *testing.T) {
	u := User{Extensions: []string{"201", "1001"}}
	for n, want := range map[string]bool{"201": true, "1001": true, "20": false, "": false, "2011": false} {
		if u.HasExtension(n) != want {
			t.Errorf("HasExtension(%q) != %v", n, want)
		}
	}
}

func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword("pw", cheap)
	f.Add(good, "pw")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("$$$$$", "x")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		// Keep the fuzzer from spending its time on expensive parameters.
		if strings.Count(hash, "m=") > 1 || strings.Contains(hash, "m=") && !strings.Contains(hash, "m=64,") {
			return
		}
		ok, err := VerifyPassword(hash, pw)
		if ok && err != nil {
			t.Fatal("ok with an error")
		}
	})
}
