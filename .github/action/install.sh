#!/usr/bin/env bash
# action.yml, step `install`: the release binary for this runner, checked
# against the release's SHA256SUMS before it is run, into $RUNNER_TEMP and
# onto PATH. Outputs: path.
set -euo pipefail

fail() {
    echo "::error title=dojo-hook::$*"
    exit 1
}

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
Linux/X64) target=x86_64-unknown-linux-gnu ;;
Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
*) fail "no dojo-hook release binary for a ${RUNNER_OS:-?} ${RUNNER_ARCH:-?} runner: the releases are for Linux on X64 and ARM64 (runs-on: ubuntu-latest or ubuntu-24.04-arm)" ;;
esac

action_dir=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: not run as an action}
# The default is the release this action's ref belongs to: its Cargo.toml.
version=${DOJO_HOOK_VERSION:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$action_dir/Cargo.toml" | head -n 1)}
[ -n "$version" ] || fail "no version: set the input version (e.g. 0.1.0)"
version=${version#v}

base=${DOJO_HOOK_RELEASE_URL:-}
if [ -z "$base" ]; then
    # github.action_repository is empty in composite actions (actions/runner
    # issue 2525); the runner keeps an action in .../_actions/OWNER/REPO/REF.
    rest=${action_dir%/}
    rest=${rest%/*}
    repo=${rest##*/}
    rest=${rest%/*}
    owner=${rest##*/}
    rest=${rest%/*}
    [ "${rest##*/}" = _actions ] ||
        fail "cannot tell this action's repository from its path $action_dir: set the input release-url"
    base="${GITHUB_SERVER_URL:-https://github.com}/$owner/$repo/releases/download/v$version"
fi
base=${base%/}

name=dojo-hook-$version-$target
dir=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dojo-hook-$version-$target
rm -rf "$dir"
mkdir -p "$dir/bin"
fetch() {
    curl --fail --silent --show-error --location --retry 3 --output "$dir/$1" "$base/$1" ||
        fail "downloading $base/$1 failed (the input version or release-url?)"
}
fetch SHA256SUMS
fetch "$name"
line=$(awk -v name="$name" '$2 == name' "$dir/SHA256SUMS")
[ -n "$line" ] || fail "$base/SHA256SUMS has no line for $name"
(cd "$dir" && printf '%s\n' "$line" | sha256sum --check --strict --status) ||
    fail "$name does not match its SHA-256 in $base/SHA256SUMS: not installed, not run"
mv "$dir/$name" "$dir/bin/dojo-hook"
chmod 0755 "$dir/bin/dojo-hook"
echo "$dir/bin" >>"$GITHUB_PATH"
echo "path=$dir/bin/dojo-hook" >>"$GITHUB_OUTPUT"
echo "$("$dir/bin/dojo-hook" --version) ($target) from $base, SHA-256 checked"
