#!/usr/bin/env bash
# Builds the release artifacts falcoctl installs, under dist/:
#   k8saudit-ovh-<version>-linux-<arch>.tar.gz   libk8saudit-ovh.so (extracted into Falco's plugins dir)
#   k8saudit-ovh-rules-<version>.tar.gz          the rules files (extracted into Falco's rules dir)
#   SHA256SUMS
# Both archives are flat (files at the root, no directories, no links), as falcoctl and the
# falcosecurity/plugins packaging expect, and reproducible (fixed owner, order and mtime).
#
# Usage: scripts/dist.sh [--so PATH] [--out DIR]   (env: GZIP_LEVEL, default 9; SOURCE_DATE_EPOCH)
#   --so PATH  package this already-built plugin instead of running `cargo build --release`
#   --out DIR  write there instead of dist/
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/dist"
so=""
while [ $# -gt 0 ]; do
  case "$1" in
    --so) so="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "dist.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

name=k8saudit-ovh
version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
arch="$(uname -m)"
rules=(rules/k8s_audit_ovh_overlay.yaml rules/k8s_audit_ovh_rules.yaml)
[ -n "$version" ] || { echo "dist.sh: no version in Cargo.toml" >&2; exit 1; }

# The rules files must ask for this very plugin version, or falcoctl resolves the wrong one.
grep -qx "    version: $version" "$root/rules/k8s_audit_ovh_rules.yaml" || {
  echo "dist.sh: rules/k8s_audit_ovh_rules.yaml must require k8saudit-ovh $version (required_plugin_versions)" >&2
  exit 1
}

if [ -z "$so" ]; then
  (cd "$root" && cargo build --release --locked)
  so="$root/target/release/libk8saudit_ovh.so"
fi
[ -f "$so" ] || { echo "dist.sh: plugin library $so not found" >&2; exit 1; }

mkdir -p "$out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mtime="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"

level="${GZIP_LEVEL:-9}"
pack() { # archive, directory, files in archive order...
  local archive="$1" dir="$2"; shift 2
  tar --create --file=- --directory="$dir" --owner=0 --group=0 --numeric-owner \
    --mtime="@$mtime" "$@" | gzip -n "-$level" > "$archive"
}

mkdir "$stage/plugin" "$stage/rules"
install -m 0755 "$so" "$stage/plugin/lib$name.so"
plugin_tgz="$name-$version-linux-$arch.tar.gz"
pack "$out/$plugin_tgz" "$stage/plugin" "lib$name.so"

rule_files=()
for f in "${rules[@]}"; do
  install -m 0644 "$root/$f" "$stage/rules/"
  rule_files+=("$(basename "$f")")
done
# Order matters to tools that read every file's required_plugin_versions: ours comes last.
rules_tgz="$name-rules-$version.tar.gz"
pack "$out/$rules_tgz" "$stage/rules" "${rule_files[@]}"

(cd "$out" && sha256sum "$plugin_tgz" "$rules_tgz" > SHA256SUMS)

cat <<MSG
Wrote $out/$plugin_tgz
Wrote $out/$rules_tgz
Wrote $out/SHA256SUMS

To publish to an OCI registry (repositories as in index.yaml):
  falcoctl registry push --type plugin --version $version --platform linux/$( [ "$arch" = x86_64 ] && echo amd64 || echo arm64 ) \\
    ghcr.io/falcosecurity/plugins/plugin/$name:$version $out/$plugin_tgz --add-floating-tags
  falcoctl registry push --type rulesfile --version $version --depends-on $name:$version \\
    --requires engine_version_semver:0.31.0 \\
    ghcr.io/falcosecurity/plugins/ruleset/$name:$version $out/$rules_tgz --add-floating-tags
MSG
