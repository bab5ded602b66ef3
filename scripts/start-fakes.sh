# Sourced by demo.sh and ci-report-samples.sh: starts the bundled fakes
# (examples/fakes.rs, DefectDojo 3.x and the object store, on free loopback
# ports, storing under $1) and sets fakes_pid, dojo and store. Needs $FAKES
# and $work; the caller's EXIT trap kills $fakes_pid.
start_fakes() {
    "$FAKES" --flavour v3 --dojo-port 0 --store-port 0 --store-dir "$1" >"$work/fakes.out" 2>"$work/fakes.err" &
    fakes_pid=$!
    for _ in $(seq 100); do
        [ "$(wc -l <"$work/fakes.out")" -ge 2 ] && break
        sleep 0.05
    done
    dojo=$(awk '$1 == "dojo" {print $2}' "$work/fakes.out")
    store=$(awk '$1 == "store" {print $2}' "$work/fakes.out")
    [ -n "$dojo" ] && [ -n "$store" ] || { echo "the fakes did not start:"; cat "$work/fakes.err"; exit 1; }
}
