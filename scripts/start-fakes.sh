# Sourced by demo.sh, ci-report-samples.sh and action-test.sh: starts the
# bundled fakes (examples/fakes.rs, DefectDojo 3.x and the object store, on free
# loopback ports, storing under $1) and sets fakes_pid, dojo, store and key (the
# API key the fake prints: the one it accepts). Needs $FAKES and $work; the
# caller's EXIT trap kills $fakes_pid.
start_fakes() {
    "$FAKES" --flavour v3 --dojo-port 0 --store-port 0 --store-dir "$1" >"$work/fakes.out" 2>"$work/fakes.err" &
    fakes_pid=$!
    for _ in $(seq 100); do
        [ "$(wc -l <"$work/fakes.out")" -ge 3 ] && break
        sleep 0.05
    done
    dojo=$(awk '$1 == "dojo" {print $2}' "$work/fakes.out")
    store=$(awk '$1 == "store" {print $2}' "$work/fakes.out")
    key=$(awk '$1 == "key" {print $2}' "$work/fakes.out")
    [ -n "$dojo" ] && [ -n "$store" ] && [ -n "$key" ] || { echo "the fakes did not start:"; cat "$work/fakes.err"; exit 1; }
}
