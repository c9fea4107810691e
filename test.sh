#!/usr/bin/env bash
# Runs every check and test of spanrec. On a fresh Debian machine it first
# installs what the tests use (tshark, ffmpeg and sox serve as reference
# tools and oracles); run it as root or with sudo available, or set
# SPANREC_NO_INSTALL=1 to skip the install step.
#
#   ./test.sh              checks + all tests (+ a short fuzz run per target)
#   FUZZTIME=30s ./test.sh longer fuzzing
set -euo pipefail
cd "$(dirname "$0")"

# The S3 store's tests run a real S3-compatible server, SeaweedFS (package
# s3/s3test). Its module is served by the Go proxy; `go install` refuses it
# (its go.mod has a replace directive), so build it from the module's
# source, once per machine: about 11 minutes on 2 cores the first time. It
# builds in the background while the packages install and the checks run,
# and the tests wait for it.
weed_version=v0.0.0-20261109003541-7506e5f91cd6
gobin="$(go env GOPATH)/bin"
weed_pid=
work=$(mktemp -d) # the SeaweedFS build's log, the fuzzing binaries
cleanup() {
  if [ -n "$weed_pid" ]; then pkill -P "$weed_pid" 2>/dev/null || true; kill "$weed_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
weed_log="$work/weed.log"
if [ -z "${SPANREC_WEED:-}" ] && ! command -v weed >/dev/null && [ ! -x "$gobin/weed" ]; then
  echo "== building SeaweedFS $weed_version for the S3 tests in the background (once per machine; about 11 minutes on 2 cores)"
  (
    set -e
    weed_dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$weed_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$gobin"
    cd "$weed_dir" && go build -o "$gobin/weed.tmp" ./weed && mv "$gobin/weed.tmp" "$gobin/weed"
  ) >"$weed_log" 2>&1 &
  weed_pid=$!
fi

need=()
for tool in tshark:tshark ffmpeg:ffmpeg sox:sox sipp:sip-tester ip:iproute2 tc:iproute2 ethtool:ethtool tcpdump:tcpdump baresip:baresip kamailio:kamailio chromium:chromium; do
  # ethtool and kamailio live in /usr/sbin, off a normal user's PATH.
  command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || need+=("${tool##*:}")
done
# The postgres index's tests run a throwaway PostgreSQL cluster (package
# pgtest): they need the server binaries, which Debian keeps off PATH.
command -v pg_ctl >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ] && [ -z "${SPANREC_NO_INSTALL:-}" ]; then
  echo "== installing ${need[*]}"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  # Wait for another apt/dpkg (unattended upgrades, a parallel job) to
  # let go of the dpkg lock rather than fail.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The kamailio package enables and starts a SIP proxy on every interface
  # of this machine; the lab runs its own inside its namespaces and wants
  # none here.
  if [[ " ${need[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now kamailio.service >/dev/null 2>&1 || true
  fi
  # Likewise the postgresql package starts a cluster of its own; the tests
  # make theirs.
  if [[ " ${need[*]} " == *" postgresql "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now postgresql.service >/dev/null 2>&1 || true
  fi
fi

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== CGO_ENABLED=0 build"
CGO_ENABLED=0 go build -o /dev/null ./cmd/spanrec

if [ -n "$weed_pid" ]; then
  echo "== waiting for the SeaweedFS build"
  wait "$weed_pid" || { cat "$weed_log"; echo "building SeaweedFS failed"; exit 1; }
  weed_pid=
fi

echo "== go test -race"
# A package binary's limit, not the run's: under -race on a loaded 2-core machine
# the sqlite and api packages have taken 12-23 minutes.
# The slowest packages first: go test starts them in the order given, two at
# a time on two cores, and one started last would run on alone at the end.
go test -race -count=1 -timeout 35m ./api/ ./sqlite/ ./recorder/ ./cmd/spanrec/ ./lab/ ./ship/ ./hostile/ \
  ./postgres/ ./retention/ ./s3/ ./doctor/ ./...

echo "== the SQLite conformance tests go test -race leaves out (sqlite/race_test.go), without it"
go test -count=1 -run '^TestConformance$/^(Paged|PagedDeep|NumberSearch)$' ./sqlite/

echo "== fuzz (${FUZZTIME:=5s} per target)"
# Each package's test binary is built once with the fuzzing instrumentation
# and run once per target (go test -fuzz would link it again per target).
fuzzbin="$work/fuzz"
mkdir -p "$fuzzbin"
fuzzcache="$(go env GOCACHE)/fuzz" # where go test -fuzz keeps what it found
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  # || true: grep finds nothing in a package without fuzz targets, which
  # under set -e and pipefail would end the script.
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  [ -n "$targets" ] || continue
  bin="$fuzzbin/$(basename "$dir").test"
  # -fuzz at build time selects the instrumented build; it must name one target.
  go test -c -o "$bin" -fuzz="^$(echo "$targets" | head -1)\$" "$pkg"
  for target in $targets; do
    echo "-- $pkg $target"
    # Run directly, a test binary has no default -test.timeout: a hung target must still end.
    # A test binary runs in its package's directory (testdata, seed corpora).
    if ! (cd "$dir" && "$bin" -test.run='^$' -test.fuzz="^${target}\$" -test.fuzztime="$FUZZTIME" -test.fuzzcachedir="$fuzzcache/$pkg" -test.timeout=10m) >/tmp/spanrec-fuzz.log 2>&1; then
      # Go's fuzz coordinator can end a short run with "context deadline
      # exceeded" while a worker is still busy (no input failed: a real
      # failure says "Failing input written to"). Run such a target again.
      if grep -q 'context deadline exceeded' /tmp/spanrec-fuzz.log && ! grep -q 'Failing input written' /tmp/spanrec-fuzz.log; then
        echo "   (fuzz coordinator timed out without a failing input; running again)"
        (cd "$dir" && "$bin" -test.run='^$' -test.fuzz="^${target}\$" -test.fuzztime="$FUZZTIME" -test.fuzzcachedir="$fuzzcache/$pkg" -test.timeout=10m) >/tmp/spanrec-fuzz.log 2>&1 || { cat /tmp/spanrec-fuzz.log; exit 1; }
      else
        cat /tmp/spanrec-fuzz.log; exit 1
      fi
    fi
  done
done
echo "== all checks passed"
