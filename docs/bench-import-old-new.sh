#!/bin/sh
# Compare the CPU (user + system) of `spanrec import` between two binaries on
# the same capture, alternating, each run into a fresh data directory on
# tmpfs. Prints one line per run and the minimum and median per binary.
#
#   docs/bench-import-old-new.sh OLD_BINARY NEW_BINARY [CAPTURE] [RUNS]
#
# Make the binaries and the capture (see docs/PERFORMANCE.md, "Ninth session"):
#   git worktree add --detach /tmp/wt-old 1b5deee
#   (cd /tmp/wt-old && CGO_ENABLED=0 go build -o /dev/shm/spanrec-old ./cmd/spanrec)
#   (cd /tmp/wt-old && go run ./cmd/spangen -scenario bench -calls 1000 -talk 30s -o /dev/shm/bench1000.pcap)
#   CGO_ENABLED=0 go build -o /dev/shm/spanrec-new ./cmd/spanrec
#   docs/bench-import-old-new.sh /dev/shm/spanrec-old /dev/shm/spanrec-new
set -eu
old=$1
new=$2
capture=${3:-/dev/shm/bench1000.pcap}
runs=${4:-7}
dir=$(mktemp -d /dev/shm/bench-import.XXXXXX)
trap 'rm -rf "$dir"' EXIT
i=1
while [ "$i" -le "$runs" ]; do
	for v in old new; do
		eval bin=\$$v
		rm -rf "$dir/data"
		/usr/bin/time -f "%U %S %M" -o "$dir/time" "$bin" import --no-progress --data "$dir/data" "$capture" >/dev/null 2>"$dir/log" ||
			{ cat "$dir/log" >&2; exit 1; }
		read -r u s m <"$dir/time"
		cpu=$(echo "$u + $s" | bc)
		echo "$v run $i: user $u s, sys $s s, cpu $cpu s, max rss $m KB, load $(cut -d' ' -f1 /proc/loadavg)"
		echo "$cpu" >>"$dir/$v.cpu"
	done
	i=$((i + 1))
done
for v in old new; do
	sort -n "$dir/$v.cpu" >"$dir/$v.sorted"
	n=$(wc -l <"$dir/$v.sorted")
	min=$(head -1 "$dir/$v.sorted")
	med=$(sed -n "$(((n + 1) / 2))p" "$dir/$v.sorted")
	echo "$v: min $min s, median $med s (cpu, $n runs)"
	eval "${v}_min=$min ${v}_med=$med"
done
echo "new/old: min $(echo "scale=3; $new_min / $old_min" | bc), median $(echo "scale=3; $new_med / $old_med" | bc)"
