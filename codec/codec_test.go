package codec

import (
	"slices"
	"testing"

	"github.com/spanrec/spanrec/codec/g711"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name                string
		clock, channels     int
		ok                  bool
		want                string
		wantClock, wantRate int
		wantChannels        int
	}{
		{"PCMU", 8000, 1, true, "PCMU", 8000, 8000, 1},
		{"pcmu", 8000, 0, true, "PCMU", 8000, 8000, 1},
		{"PCMU", 0, 0, true, "PCMU", 8000, 8000, 1},
		{"PcMa", 8000, 1, true, "PCMA", 8000, 8000, 1},
		{"G722", 8000, 1, true, "G722", 8000, 16000, 1},
		{"g722", 16000, 0, true, "G722", 16000, 16000, 1},
		{"L16", 44100, 2, true, "L16", 44100, 44100, 2},
		{"l16", 8000, 0, true, "L16", 8000, 8000, 1},
		{"L16", 48000, 1, true, "L16", 48000, 48000, 1},
		{"PCMU", 16000, 1, false, "", 0, 0, 0},
		{"PCMU", 8000, 2, false, "", 0, 0, 0},
		{"G722", 8000, 2, false, "", 0, 0, 0},
		{"L16", 0, 1, false, "", 0, 0, 0},
		{"L16", 8000, -1, false, "", 0, 0, 0},
		{"G729", 8000, 1, true, "G729", 8000, 8000, 1},
		{"g729a", 0, 0, true, "G729", 8000, 8000, 1},
		{"G729", 16000, 1, false, "", 0, 0, 0},
		{"GSM", 8000, 1, true, "GSM", 8000, 8000, 1},
		{"gsm", 0, 0, true, "GSM", 8000, 8000, 1},
		{"GSM", 16000, 1, false, "", 0, 0, 0},
		{"G726-32", 8000, 1, true, "G726-32", 8000, 8000, 1},
		{"g726-16", 0, 0, true, "G726-16", 8000, 8000, 1},
		{"AAL2-G726-40", 8000, 1, true, "AAL2-G726-40", 8000, 8000, 1},
		{"aal2-g726-24", 8000, 1, true, "AAL2-G726-24", 8000, 8000, 1},
		{"G721", 8000, 1, true, "G721", 8000, 8000, 1},
		{"G726-64", 8000, 1, false, "", 0, 0, 0},
		{"G726-32", 8000, 2, false, "", 0, 0, 0},
		{"opus", 48000, 2, true, "opus", 48000, 48000, 2},
		{"OPUS", 48000, 0, true, "opus", 48000, 48000, 2},
		{"opus", 48000, 1, true, "opus", 48000, 48000, 2},
		{"opus", 16000, 2, false, "", 0, 0, 0},
		{"opus", 48000, 3, false, "", 0, 0, 0},
		{"telephone-event", 8000, 1, false, "", 0, 0, 0},
		{"", 8000, 1, false, "", 0, 0, 0},
	}
	for _, tt := range tests {
		c, ok := Lookup(tt.name, tt.clock, tt.channels)
		if ok != tt.ok {
			t.Errorf("Lookup(%q, %d, %d): ok %v, want %v", tt.name, tt.clock, tt.channels, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if c.Name != tt.want || c.ClockRate != tt.wantClock || c.SampleRate != tt.wantRate || c.Channels != tt.wantChannels || c.New == nil {
			t.Errorf("Lookup(%q, %d, %d) = %+v", tt.name, tt.clock, tt.channels, c)
		}
	}
}

// TestLookupDecoders checks that each codec's decoder produces the expected
// number of samples at SampleRate for 20 ms of payload.
func TestLookupDecoders(t *testing.T) {
	tests := []struct {
		name            string
		clock, channels int
		payload         int // octets in 20 ms
	}{
		{"PCMU", 8000, 1, 160},
		{"PCMA", 8000, 1, 160},
		{"G722", 8000, 1, 160},
		{"L16", 16000, 2, 1280},
		{"L16", 8000, 1, 320},
		{"GSM", 8000, 1, 33},
		{"G726-16", 8000, 1, 40},
		{"G726-24", 8000, 1, 60},
		{"G726-32", 8000, 1, 80},
		{"G726-40", 8000, 1, 100},
		{"AAL2-G726-40", 8000, 1, 100},
		{"G721", 8000, 1, 80},
		{"opus", 48000, 2, 40},
	}
	for _, tt := range tests {
		c, ok := Lookup(tt.name, tt.clock, tt.channels)
		if !ok {
			t.Fatalf("Lookup(%q) failed", tt.name)
		}
		d := c.New()
		payload := make([]byte, tt.payload)
		switch tt.name {
		case "GSM":
			payload[0] = 0xD0 // frame signature
		case "opus":
			payload[0] = 1 << 3 // TOC: SILK narrowband, 20 ms, one frame
		}
		pcm, err := d.Decode(nil, payload)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if want := c.SampleRate / 50; len(pcm) != want {
			t.Errorf("%s/%d/%d: %d samples for 20 ms, want %d", tt.name, tt.clock, tt.channels, len(pcm), want)
		}
	}
	// Decoders are independent values: state in one must not leak into
	// another.
	c, _ := Lookup("G722", 8000, 1)
	d1, d2 := c.New(), c.New()
	loud := []byte{0x20, 0x04, 0x20, 0x04, 0x20, 0x04}
	_, _ = d1.Decode(nil, loud)
	a, _ := d1.Decode(nil, loud)
	b, _ := d2.Decode(nil, loud)
	if slices.Equal(a, b) {
		t.Error("two G722 decoders from one Codec share state")
	}
	// PCMU decodes through g711.
	c, _ = Lookup("PCMU", 8000, 1)
	pcm, _ := c.New().Decode(nil, []byte{0x00})
	if pcm[0] != g711.DecodeUlaw(0x00) {
		t.Errorf("PCMU decoder: %d", pcm[0])
	}
	// L16 stereo downmix and error.
	c, _ = Lookup("L16", 44100, 2)
	pcm, err := c.New().Decode(nil, []byte{0x00, 0x02, 0x00, 0x04})
	if err != nil || !slices.Equal(pcm, []int16{3}) {
		t.Errorf("L16 stereo: %v, %v", pcm, err)
	}
	if _, err := c.New().Decode(nil, []byte{0x00}); err == nil {
		t.Error("L16 odd payload: no error")
	}
}

func TestStatic(t *testing.T) {
	tests := []struct {
		pt       uint8
		ok       bool
		name     string
		clock    int
		channels int
	}{
		{0, true, "PCMU", 8000, 1},
		{2, true, "G721", 8000, 1},
		{3, true, "GSM", 8000, 1},
		{4, true, "G723", 8000, 1},
		{5, true, "DVI4", 8000, 1},
		{6, true, "DVI4", 16000, 1},
		{7, true, "LPC", 8000, 1},
		{8, true, "PCMA", 8000, 1},
		{9, true, "G722", 8000, 1},
		{10, true, "L16", 44100, 2},
		{11, true, "L16", 44100, 1},
		{12, true, "QCELP", 8000, 1},
		{13, true, "CN", 8000, 1},
		{14, true, "MPA", 90000, 1},
		{15, true, "G728", 8000, 1},
		{16, true, "DVI4", 11025, 1},
		{17, true, "DVI4", 22050, 1},
		{18, true, "G729", 8000, 1},
		{26, true, "JPEG", 90000, 0},
		{34, true, "H263", 90000, 0},
		{1, false, "", 0, 0},
		{19, false, "", 0, 0},
		{24, false, "", 0, 0},
		{35, false, "", 0, 0},
		{96, false, "", 0, 0},
		{101, false, "", 0, 0},
		{127, false, "", 0, 0},
		{255, false, "", 0, 0},
	}
	for _, tt := range tests {
		name, clock, channels, ok := Static(tt.pt)
		if ok != tt.ok || name != tt.name || clock != tt.clock || channels != tt.channels {
			t.Errorf("Static(%d) = %q, %d, %d, %v; want %q, %d, %d, %v",
				tt.pt, name, clock, channels, ok, tt.name, tt.clock, tt.channels, tt.ok)
		}
	}
}

// TestStaticLookup checks that the decodable static types resolve through
// Lookup, and that the others (G723 = 4, ...) do not.
func TestStaticLookup(t *testing.T) {
	decodable := map[uint8]bool{0: true, 2: true, 3: true, 8: true, 9: true, 10: true, 11: true, 18: true}
	for pt := range 128 {
		name, clock, channels, ok := Static(uint8(pt))
		if !ok {
			continue
		}
		if _, ok := Lookup(name, clock, channels); ok != decodable[uint8(pt)] {
			t.Errorf("payload type %d (%s/%d/%d): Lookup ok = %v", pt, name, clock, channels, ok)
		}
	}
}

func TestRegister(t *testing.T) {
	c := Codec{Name: "X-Test-Codec", ClockRate: 8000, Channels: 1, SampleRate: 8000,
		New: func() Decoder { return g711.UlawDecoder{} }}
	Register(c)
	if got, ok := Lookup("x-test-codec", 0, 0); !ok || got.Name != c.Name || got.SampleRate != 8000 {
		t.Errorf("Lookup after Register: %+v, %v", got, ok)
	}
	if _, ok := Lookup("X-TEST-CODEC", 16000, 1); ok {
		t.Error("Lookup accepted a clock rate the codec does not have")
	}
	for _, bad := range []Codec{c, {Name: "X-Incomplete", ClockRate: 8000}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", bad.Name)
				}
			}()
			Register(bad)
		}()
	}
}

func TestAlias(t *testing.T) {
	if err := Alias("X-Test-G726", "aal2-g726-32"); err != nil {
		t.Fatal(err)
	}
	c, ok := Lookup("x-test-g726", 8000, 1)
	if !ok || c.Name != "AAL2-G726-32" {
		t.Errorf("Lookup of the alias: %+v, %v", c, ok)
	}
	// The same packet decodes as the target does, not as G726-32.
	p := []byte{0x12, 0x34, 0x56, 0x78, 0x9a}
	want, _ := Lookup("AAL2-G726-32", 8000, 1)
	le, _ := Lookup("G726-32", 8000, 1)
	a, _ := c.New().Decode(nil, p)
	b, _ := want.New().Decode(nil, p)
	l, _ := le.New().Decode(nil, p)
	if !slices.Equal(a, b) || slices.Equal(a, l) {
		t.Errorf("alias decodes %v; AAL2-G726-32 %v, G726-32 %v", a, b, l)
	}
	if err := Alias("X-Test-2", "NOPE"); err == nil {
		t.Error("alias to an unknown codec: no error")
	}
	if err := Alias(" ", "PCMU"); err == nil {
		t.Error("empty alias: no error")
	}
}
