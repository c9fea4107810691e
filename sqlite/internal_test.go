package sqlite

import "testing"

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		p, want string
		ok      bool
	}{
		{"abc", "abd", true},
		{"ab\xff", "ac", true},
		{"\xff\xff", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := prefixEnd(tt.p)
		if got != tt.want || ok != tt.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tt.p, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFileURI(t *testing.T) {
	tests := map[string]string{
		"/var/lib/spanrec/index.db": "file:/var/lib/spanrec/index.db",
		"/a?b#c%d/x.db":             "file:/a%3fb%23c%25d/x.db",
	}
	for in, want := range tests {
		if got := fileURI(in); got != want {
			t.Errorf("fileURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].sql == "" {
		t.Errorf("migrations = %+v", ms)
	}
}
