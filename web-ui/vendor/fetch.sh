#!/usr/bin/env bash
# Re-fetches the web UI's third-party modules from the npm registry at the exact pinned versions,
# checks each tarball against its pinned integrity (npm's dist.integrity, sha512), and extracts
# only the ES-module files the UI imports, with each package's licence, into
# web-ui/vendor/<name>@<version>/. The directory name carries the version, so the server may
# serve these files as immutable.
#
# Run it to check the committed files (`git diff --exit-code web-ui/vendor` afterwards) or after
# changing a pin below (then update the import map in web-ui/index.html).
set -euo pipefail
cd "$(dirname "$0")"

# name version integrity files-inside-the-package...
PINS=(
  "preact 11.2.0 sha512-/HfHI/7N84e6GrWBJ3J280z3mLaRJiDcSvj/A+y/4AbLnND/1UlGHe1sR6oYuTGwId0nP7dqDU9OnLxMPZ7xBg== LICENSE dist/preact.mjs hooks/dist/hooks.mjs"
  "htm 3.1.1 sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ== LICENSE dist/htm.mjs"
  "uplot 1.6.32 sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw== LICENSE dist/uPlot.esm.js dist/uPlot.min.css"
  "diff 9.0.0 sha512-svtcdpS8CgJyqAjEQIXdb3OjhFVVYjzGAPO8WGCmRbrml64SPw/jJD4GoE98aR7r25A0XcgrK3F02yw9R/vhQw== LICENSE libesm/diff/line.js libesm/diff/base.js libesm/util/params.js"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for pin in "${PINS[@]}"; do
  read -r name version integrity files <<<"$pin"
  url=$(npm view "$name@$version" dist.tarball)
  listed=$(npm view "$name@$version" dist.integrity)
  if [ "$listed" != "$integrity" ]; then
    echo "$name@$version: the registry lists $listed, pinned $integrity" >&2
    exit 1
  fi
  curl -fsSL "$url" -o "$work/$name.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$name.tgz" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "$name@$version: tarball hashes to $actual, pinned $integrity" >&2
    exit 1
  fi
  dest="$name@$version"
  rm -rf "$dest"
  mkdir -p "$work/$name" "$dest"
  tar xzf "$work/$name.tgz" -C "$work/$name"
  for f in $files; do
    mkdir -p "$dest/$(dirname "$f")"
    # Source-map comments point at files not vendored; the browser would ask for them and 404.
    sed '/^\/\/# sourceMappingURL=/d' "$work/$name/package/$f" >"$dest/$f"
  done
  echo "$dest: ok ($integrity)"
done
