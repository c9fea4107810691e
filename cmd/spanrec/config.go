package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/packet"
)

// fileConfig is the configuration file format (docs/spanrec.yaml documents
// every key). Each section maps onto one package's Config.
type fileConfig struct {
	Data     string `yaml:"data"`
	LogLevel string `yaml:"log_level"`
	// Index is the call index's URL (--index): sqlite:PATH or
	// postgres://…; "" is the data directory's index.db.
	Index string `yaml:"index"`
	// Sensor names this recorder on every call it records (--sensor);
	// "" is the host name.
	Sensor string `yaml:"sensor"`
	// Store is the central object store's URL (record, import, ship
	// --store):
	// s3://BUCKET/PREFIX?endpoint=…&region=…; credentials come from the
	// AWS_* environment variables, never from the URL.
	Store string `yaml:"store"`
	// StoreCredentials are the store's credentials when the AWS_*
	// environment variables do not give them; never logged.
	StoreCredentials storeCredentials `yaml:"store_credentials"`
	// LogFile, if set, receives the log instead of standard error
	// (record; reopened on SIGHUP).
	LogFile string `yaml:"log_file"`
	// MetricsListen is the address record serves /metrics on.
	MetricsListen string `yaml:"metrics_listen"`
	Networks      struct {
		Local           []string `yaml:"local"`
		Trunks          []string `yaml:"trunks"`
		PBX             []string `yaml:"pbx"`
		ExtensionDigits int      `yaml:"extension_digits"`
	} `yaml:"networks"`
	Calls struct {
		MediaTimeout time.Duration `yaml:"media_timeout"`
		EndLinger    time.Duration `yaml:"end_linger"`
		AuthLinger   time.Duration `yaml:"auth_linger"`
		// MaxDuration closes a call that lasted this long (sanity limit).
		MaxDuration time.Duration `yaml:"max_duration"`
		// Shards is the number of goroutines that assemble calls; 0: one
		// per CPU.
		Shards int `yaml:"shards"`
		// RTPWithoutSignalling is "record" (RTP no SDP claims becomes a
		// signalless call) or "ignore"; "" means record.
		RTPWithoutSignalling string `yaml:"rtp_without_signalling"`
		// CorrelationHeaders are the SIP headers that link the legs of
		// one conversation; absent: call.DefaultCorrelationHeaders, []:
		// none (legs are then linked by their media endpoints only).
		CorrelationHeaders []string `yaml:"correlation_headers"`
	} `yaml:"calls"`
	Limits struct {
		// Memory is the budget of what the recorder buffers for the
		// traffic (recorder.Config.Memory): bytes, or with a unit (KiB,
		// MiB, GiB, KB, MB, GB), or "none"; default a quarter of the
		// memory available.
		Memory byteSize `yaml:"memory"`
	} `yaml:"limits"`
	// Retention deletes old calls and guards the disk (retention.go).
	Retention retentionConfig `yaml:"retention"`
	Capture   captureConfig   `yaml:"capture"`
	HTTP      httpConfig      `yaml:"http"` // spanrec serve
	// Keys is the operator's key file (import --keys, record; reread on
	// SIGHUP).
	Keys struct {
		File string `yaml:"file"`
	} `yaml:"keys"`
	Audio struct {
		// MaxRate caps the recordings' sample rate: 8000, 16000 or
		// 48000 (default); a recording follows its widest leg up to it.
		MaxRate int `yaml:"max_rate"`
		// Aliases maps an rtpmap encoding name to the codec to decode it
		// as, for equipment that mislabels its streams (G726-32 packed
		// big-endian: {G726-32: AAL2-G726-32}). Process-wide; a reload
		// adds aliases but does not remove them.
		Aliases map[string]string `yaml:"aliases"`
	} `yaml:"audio"`
}

// byteSize is a size in bytes in the configuration file: a number,
// optionally with a unit, or "none" (no limit: Bytes < 0).
type byteSize struct{ Bytes int64 }

func (b *byteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	b.Bytes = v
	return nil
}

func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "none") {
		return -1, nil
	}
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(s[len(num):])
	n, err := strconv.ParseInt(num, 10, 64)
	mult := map[string]int64{"": 1, "B": 1, "K": 1 << 10, "KIB": 1 << 10, "KB": 1000, "M": 1 << 20, "MIB": 1 << 20, "MB": 1000_000,
		"G": 1 << 30, "GIB": 1 << 30, "GB": 1000_000_000, "T": 1 << 40, "TIB": 1 << 40, "TB": 1000_000_000_000}[strings.ToUpper(unit)]
	if err != nil || n <= 0 || mult == 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with KiB, MiB, GiB, KB, MB, GB; or none)", s)
	}
	return n * mult, nil
}

// maxShards bounds calls.shards and --shards.
const maxShards = 256

// shards returns the number of call shards: the value of fs's --shards
// flag if it was given, else the configuration's.
func (fc *fileConfig) shards(fs *flag.FlagSet) (int, error) {
	f := fs.Lookup("shards")
	given := false
	fs.Visit(func(v *flag.Flag) { given = given || v == f })
	if !given {
		return fc.Calls.Shards, nil
	}
	n := f.Value.(flag.Getter).Get().(int)
	if n < 0 || n > maxShards {
		return 0, fmt.Errorf("%w: --shards must be 0 (one per CPU) to %d", errUsage, maxShards)
	}
	return n, nil
}

// shardsFlag registers --shards on fs (read back with fileConfig.shards).
func shardsFlag(fs *flag.FlagSet) {
	fs.Int("shards", 0, "goroutines that assemble calls (default: config calls.shards, else one per CPU)")
}

// captureConfig is the capture section: decoding options, and the live
// capture options of record.
type captureConfig struct {
	DedupWindow     time.Duration `yaml:"dedup_window"`
	FragmentTimeout time.Duration `yaml:"fragment_timeout"`
	Interfaces      []string      `yaml:"interfaces"`
	RingMB          int           `yaml:"ring_mb"`
	Fanout          int           `yaml:"fanout"`
	Snaplen         int           `yaml:"snaplen"`
	Promiscuous     *bool         `yaml:"promiscuous"` // nil: on
	Filter          struct {
		UDPPorts string   `yaml:"udp_ports"`
		TCPPorts string   `yaml:"tcp_ports"`
		Hosts    []string `yaml:"hosts"`
		VLAN     *bool    `yaml:"vlan"` // nil: on
	} `yaml:"filter"`
}

// loadConfig reads and validates the configuration file at path ("" = none).
func loadConfig(path string) (*fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return &fc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %s", path, yamlMessage(err))
	}
	if _, err := fc.networks(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := fc.Capture.filter(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := fc.HTTP.trustedProxies(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := fc.Retention.config(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	switch fc.Audio.MaxRate {
	case 0, 8000, 16000, 48000:
	default:
		return nil, fmt.Errorf("config %s: audio.max_rate %d: want 8000, 16000 or 48000", path, fc.Audio.MaxRate)
	}
	for name, target := range fc.Audio.Aliases {
		if err := codec.Alias(name, target); err != nil {
			return nil, fmt.Errorf("config %s: audio.aliases: %w", path, err)
		}
	}
	return &fc, nil
}

func (fc *fileConfig) networks() (call.Networks, error) {
	var n call.Networks
	var errs []error
	for _, s := range fc.Networks.Local {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, err2 := netip.ParseAddr(s); err2 == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				errs = append(errs, fmt.Errorf("networks.local: %q is not a CIDR prefix", s))
				continue
			}
		}
		n.Local = append(n.Local, p.Masked())
	}
	for _, list := range []struct {
		name string
		in   []string
		out  *[]netip.Addr
	}{{"networks.trunks", fc.Networks.Trunks, &n.Trunks}, {"networks.pbx", fc.Networks.PBX, &n.PBXs}} {
		for _, s := range list.in {
			a, err := netip.ParseAddr(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not an IP address", list.name, s))
				continue
			}
			*list.out = append(*list.out, a)
		}
	}
	if fc.Networks.ExtensionDigits < 0 {
		errs = append(errs, errors.New("networks.extension_digits must not be negative"))
	}
	n.ExtensionDigits = fc.Networks.ExtensionDigits
	if fc.Calls.MediaTimeout < 0 || fc.Calls.EndLinger < 0 || fc.Calls.AuthLinger < 0 || fc.Calls.MaxDuration < 0 {
		errs = append(errs, errors.New("calls: durations must not be negative"))
	}
	switch fc.Calls.RTPWithoutSignalling {
	case "", "record", "ignore":
	default:
		errs = append(errs, fmt.Errorf("calls.rtp_without_signalling %q: want record or ignore", fc.Calls.RTPWithoutSignalling))
	}
	for _, h := range fc.Calls.CorrelationHeaders {
		if h == "" || strings.ContainsAny(h, ": \t\r\n") {
			errs = append(errs, fmt.Errorf("calls.correlation_headers: %q is not a header name", h))
		}
	}
	if fc.Calls.Shards < 0 || fc.Calls.Shards > maxShards {
		errs = append(errs, fmt.Errorf("calls.shards must be 0 (one per CPU) to %d", maxShards))
	}
	return n, errors.Join(errs...)
}

func (fc *fileConfig) callConfig(dataDir string) call.Config {
	n, _ := fc.networks() // validated by loadConfig
	return call.Config{
		DataDir:      dataDir,
		Networks:     n,
		MediaTimeout: fc.Calls.MediaTimeout,
		EndLinger:    fc.Calls.EndLinger,
		AuthLinger:   fc.Calls.AuthLinger,
		AudioMaxRate: fc.Audio.MaxRate,
		MaxDuration:  fc.Calls.MaxDuration,

		Sensor:             fc.sensorName(),
		IgnoreSignalless:   fc.Calls.RTPWithoutSignalling == "ignore",
		CorrelationHeaders: fc.Calls.CorrelationHeaders,
	}
}

// maxSensor bounds a sensor's name.
const maxSensor = 64

// sensorFlag registers --sensor on fs; applied to the configuration by
// sensor.
func sensorFlag(fs *flag.FlagSet) {
	fs.String("sensor", "", "name of this recorder, stored on every call it records (default: config sensor, else the host name)")
}

// sensor applies fs's --sensor, if given, to the configuration, and
// checks the name.
func (fc *fileConfig) sensor(fs *flag.FlagSet) error {
	if f := fs.Lookup("sensor"); f != nil && f.Value.String() != "" {
		fc.Sensor = f.Value.String()
	}
	if len(fc.Sensor) > maxSensor || strings.ContainsFunc(fc.Sensor, unicode.IsControl) {
		return fmt.Errorf("%w: sensor %q: at most %d characters, no control characters", errUsage, fc.Sensor, maxSensor)
	}
	return nil
}

// sensorName returns the sensor's name: the configured one, else the host
// name.
func (fc *fileConfig) sensorName() string {
	if fc.Sensor != "" {
		return fc.Sensor
	}
	h, err := os.Hostname()
	if err != nil || len(h) > maxSensor {
		return ""
	}
	return h
}

// signallessFlag registers --rtp-without-signalling on fs; applied to the
// configuration by signalless.
func signallessFlag(fs *flag.FlagSet) {
	fs.String("rtp-without-signalling", "", "record (RTP no SIP/SDP claims becomes a signalless call) or ignore (default: config calls.rtp_without_signalling, else record)")
}

// signalless applies fs's --rtp-without-signalling, if given, to the
// configuration.
func (fc *fileConfig) signalless(fs *flag.FlagSet) error {
	f := fs.Lookup("rtp-without-signalling")
	given := false
	fs.Visit(func(v *flag.Flag) { given = given || v == f })
	if !given {
		return nil
	}
	switch v := f.Value.String(); v {
	case "record", "ignore":
		fc.Calls.RTPWithoutSignalling = v
	default:
		return fmt.Errorf("%w: --rtp-without-signalling %q: want record or ignore", errUsage, v)
	}
	return nil
}

func (fc *fileConfig) packetConfig() packet.Config {
	return packet.Config{
		DedupWindow:     fc.Capture.DedupWindow,
		FragmentTimeout: fc.Capture.FragmentTimeout,
	}
}

// yamlMessage says what is wrong with a configuration file in its own
// terms: the YAML decoder's messages name Go types ("into main.fileConfig")
// and YAML tags, not keys.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		if m := yamlUnknownKey.FindStringSubmatch(e); m != nil {
			e = m[1] + "unknown key " + m[2] + " (docs/spanrec.yaml lists the keys)"
		} else if m := yamlWrongKind.FindStringSubmatch(e); m != nil {
			e = m[1] + m[2] + " is not the kind of value expected here (docs/spanrec.yaml shows each key's)"
		}
		msgs[i] = e
	}
	return strings.Join(msgs, "; ")
}

var (
	yamlUnknownKey = regexp.MustCompile(`^(line \d+: )?field (\S+) not found in type \S+$`)
	yamlWrongKind  = regexp.MustCompile(`^(line \d+: )?cannot unmarshal !!\w+ (.*) into \S+$`)
)
