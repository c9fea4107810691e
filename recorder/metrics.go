package recorder

import (
	"bufio"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
)

// WriteMetrics writes the recording's counters in the Prometheus text
// exposition format (version 0.0.4), read from a Stats snapshot at the
// time of the call:
//
//	spanrec_packets_total{iface}         frames captured
//	spanrec_bytes_total{iface}           bytes of those frames
//	spanrec_kernel_drops_total{iface}    frames the kernel dropped (ring full)
//	spanrec_kernel_freezes_total{iface}  times the ring was full
//	spanrec_queue_drops_total{iface}     packets dropped because the worker was behind
//	spanrec_duplicates_total{stage}      mirror copies dropped (stage "source" or "merge")
//	spanrec_decode_errors_total{reason}  truncated, unsupported_link, fragment_dropped, sip, rtp, rtcp,
//	                                     bad_time (packets skipped for an absurd capture time)
//	spanrec_unsupported_link_frames_total{link}  frames of an undecoded link type, per LINKTYPE
//	spanrec_memory_limit_bytes           the memory budget (limits.memory)
//	spanrec_memory_peak_bytes            most of it held at once
//	spanrec_memory_held_bytes{kind}      held now: tcp, held_media, calls
//	spanrec_memory_evictions_total{kind} holdings evicted (oldest first) to stay within it
//	spanrec_calls_closed_early_total{reason}  max_duration, memory
//	spanrec_active_calls                 calls in progress
//	spanrec_calls_recorded_total         calls written to the index
//	spanrec_calls_failed_total           calls whose files or entry could not be written
//	spanrec_rtp_lost_total               RTP packets lost (sequence gaps) in recorded calls
//	spanrec_disk_free_bytes              free space of the data directory's file system
//
// The counters are computed, not kept in a metrics registry: nothing is
// counted twice and no lock is taken per packet.
func (l *Live) WriteMetrics(w io.Writer) error {
	st := l.Stats()
	bw := bufio.NewWriter(w)
	m := metricWriter{w: bw}
	perIface := func(name, help string, v func(SourceStats) uint64) {
		m.head(name, help, "counter")
		for _, s := range st.Sources {
			m.sample(name, "iface", s.Interface, v(s))
		}
	}
	perIface("spanrec_packets_total", "Frames captured per interface.", func(s SourceStats) uint64 { return s.Frames })
	perIface("spanrec_bytes_total", "Bytes of the frames captured per interface.", func(s SourceStats) uint64 { return s.Bytes })
	perIface("spanrec_kernel_drops_total", "Frames the kernel dropped because the capture ring was full.", func(s SourceStats) uint64 { return s.KernelDrops })
	perIface("spanrec_kernel_freezes_total", "Times the capture ring was full.", func(s SourceStats) uint64 { return s.QueueFreezes })
	perIface("spanrec_queue_drops_total", "Packets dropped because the recorder's worker was behind.", func(s SourceStats) uint64 { return s.QueueDrops })

	var dec struct{ dups, trunc, link, frag uint64 }
	for _, s := range st.Sources {
		dec.dups += s.Decoder.Duplicates
		dec.trunc += s.Decoder.Truncated
		dec.link += s.Decoder.UnsupportedLink
		dec.frag += s.Decoder.FragmentsDropped + s.Decoder.FragmentsExpired
	}
	m.head("spanrec_duplicates_total", "Mirror copies dropped: within one source, or merging sources.", "counter")
	m.sample("spanrec_duplicates_total", "stage", "source", dec.dups)
	m.sample("spanrec_duplicates_total", "stage", "merge", st.CrossDuplicates)
	m.head("spanrec_decode_errors_total", "Frames or messages that could not be decoded, by reason.", "counter")
	m.sample("spanrec_decode_errors_total", "reason", "truncated", dec.trunc)
	m.sample("spanrec_decode_errors_total", "reason", "unsupported_link", dec.link)
	m.sample("spanrec_decode_errors_total", "reason", "fragment_dropped", dec.frag)
	m.sample("spanrec_decode_errors_total", "reason", "sip", uint64(st.SIPErrors))
	m.sample("spanrec_decode_errors_total", "reason", "rtp", uint64(st.Assembler.MalformedRTP))
	m.sample("spanrec_decode_errors_total", "reason", "rtcp", uint64(st.Assembler.MalformedRTCP))
	m.sample("spanrec_decode_errors_total", "reason", "bad_time", uint64(st.BadTime))
	links := map[packet.LinkType]uint64{}
	for _, s := range st.Sources {
		for l, n := range s.Decoder.UnsupportedLinks {
			links[l] += n
		}
	}
	m.head("spanrec_unsupported_link_frames_total", "Frames not decoded because of their link type, per LINKTYPE number.", "counter")
	for _, l := range slices.Sorted(maps.Keys(links)) {
		m.sample("spanrec_unsupported_link_frames_total", "link", strconv.Itoa(int(l)), links[l])
	}

	m.sample("spanrec_decode_errors_total", "reason", "sip_too_large", uint64(st.SIPTooLarge))

	mem := st.Memory
	m.head("spanrec_memory_limit_bytes", "The memory budget of what the recorder buffers for the traffic (limits.memory).", "gauge")
	m.sample("spanrec_memory_limit_bytes", "", "", uint64(mem.Limit))
	m.head("spanrec_memory_peak_bytes", "Most bytes of the memory budget held at once.", "gauge")
	m.sample("spanrec_memory_peak_bytes", "", "", uint64(mem.Peak))
	m.head("spanrec_memory_held_bytes", "Bytes of the memory budget held, per kind of holding.", "gauge")
	for _, k := range limits.Kinds {
		m.sample("spanrec_memory_held_bytes", "kind", k.String(), uint64(max(mem.Kinds[k].Held, 0)))
	}
	m.head("spanrec_memory_evictions_total", "Holdings evicted, oldest first, to stay within the memory budget, per kind.", "counter")
	for _, k := range limits.Kinds {
		m.sample("spanrec_memory_evictions_total", "kind", k.String(), mem.Kinds[k].Evictions)
	}
	m.head("spanrec_calls_closed_early_total", "Calls closed before their end: at calls.max_duration, or for the memory budget.", "counter")
	m.sample("spanrec_calls_closed_early_total", "reason", "max_duration", uint64(st.Assembler.TooLong))
	m.sample("spanrec_calls_closed_early_total", "reason", "memory", uint64(st.Assembler.Evicted))
	m.head("spanrec_quality_series_cut_total", "RTP streams whose quality over time was cut: stopped early for the memory budget, or none kept past the first streams (SSRCs) of a call.", "counter")
	m.sample("spanrec_quality_series_cut_total", "reason", "memory", uint64(st.Assembler.SeriesStopped))
	m.sample("spanrec_quality_series_cut_total", "reason", "streams", uint64(st.Assembler.SeriesSkipped))

	m.head("spanrec_srtp_packets_total", "SRTP and SRTCP packets of calls, by result: decrypted, or no key authenticated them (wrong or missing key, damaged).", "counter")
	m.sample2("spanrec_srtp_packets_total", "proto", "srtp", "result", "decrypted", uint64(st.Assembler.SRTPDecrypted))
	m.sample2("spanrec_srtp_packets_total", "proto", "srtp", "result", "auth_failed", uint64(st.Assembler.SRTPAuthFailures))
	m.sample2("spanrec_srtp_packets_total", "proto", "srtcp", "result", "decrypted", uint64(st.Assembler.SRTCPDecrypted))
	m.sample2("spanrec_srtp_packets_total", "proto", "srtcp", "result", "auth_failed", uint64(st.Assembler.SRTCPAuthFailures))

	m.head("spanrec_tls_connections_total", "TLS connections that may carry SIP (on 5061, or any with a key file), by outcome.", "counter")
	m.sample("spanrec_tls_connections_total", "outcome", "seen", uint64(st.TLS.Connections))
	m.sample("spanrec_tls_connections_total", "outcome", "decrypted", uint64(st.TLS.Decrypted))
	m.sample("spanrec_tls_connections_total", "outcome", "no_keys", uint64(st.TLS.NoKeys))
	m.sample("spanrec_tls_connections_total", "outcome", "joined", uint64(st.TLS.Joined))
	m.sample("spanrec_tls_connections_total", "outcome", "unsupported", uint64(st.TLS.Unsupported))
	m.sample("spanrec_tls_connections_total", "outcome", "not_sip", uint64(st.TLS.NotSIP))
	m.head("spanrec_tls_auth_failures_total", "TLS records that failed authentication (decryption of their connection stopped).", "counter")
	m.sample("spanrec_tls_auth_failures_total", "", "", st.TLS.AuthFailures)
	m.head("spanrec_active_calls", "Calls in progress.", "gauge")
	m.sample("spanrec_active_calls", "", "", uint64(st.ActiveCalls))
	m.head("spanrec_calls_recorded_total", "Calls written to the index.", "counter")
	m.sample("spanrec_calls_recorded_total", "", "", st.CallsRecorded)
	m.head("spanrec_calls_failed_total", "Calls whose files or index entry could not be written.", "counter")
	m.sample("spanrec_calls_failed_total", "", "", st.CallsFailed)
	m.head("spanrec_rtp_lost_total", "RTP packets lost (sequence gaps) in recorded calls.", "counter")
	m.sample("spanrec_rtp_lost_total", "", "", st.Lost)
	if free, err := diskFree(l.cfg.Call.DataDir); err == nil {
		m.head("spanrec_disk_free_bytes", "Free space of the data directory's file system.", "gauge")
		m.sample("spanrec_disk_free_bytes", "", "", free)
	}
	return bw.Flush()
}

// MetricsHandler returns an http.Handler that serves WriteMetrics, for
// /metrics.
func (l *Live) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = l.WriteMetrics(w)
	})
}

type metricWriter struct{ w *bufio.Writer }

func (m metricWriter) head(name, help, typ string) {
	m.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func (m metricWriter) sample(name, label, value string, v uint64) {
	m.w.WriteString(name)
	if label != "" {
		m.w.WriteString("{" + label + "=\"" + escapeLabel(value) + "\"}")
	}
	m.w.WriteString(" " + strconv.FormatUint(v, 10) + "\n")
}

// sample2 writes a sample with two labels.
func (m metricWriter) sample2(name, l1, v1, l2, v2 string, v uint64) {
	m.w.WriteString(name + "{" + l1 + "=\"" + escapeLabel(v1) + "\"," + l2 + "=\"" + escapeLabel(v2) + "\"} " + strconv.FormatUint(v, 10) + "\n")
}

// escapeLabel escapes a label value: backslash, double quote and line feed.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
