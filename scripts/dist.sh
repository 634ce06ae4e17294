#!/usr/bin/env bash
# Builds the release artifacts falcoctl installs, under dist/:
#   k8saudit-ovh-<version>-linux-x86_64.tar.gz   libk8saudit-ovh.so for x86_64 (extracted into Falco's plugins dir)
#   k8saudit-ovh-<version>-linux-aarch64.tar.gz  the same for aarch64
#   k8saudit-ovh-rules-<version>.tar.gz          the rules files (extracted into Falco's rules dir)
#   SHA256SUMS
# then prints the commands that publish them (docs/install.md, "Publishing a release").
# The archives are flat (files at the root, no directories, no links), as falcoctl and the
# falcosecurity/plugins packaging expect, and reproducible (fixed owner, order and mtime).
#
# The libraries are built with cargo-zigbuild (PyPI: cargo-zigbuild, ziglang) for glibc 2.28,
# with OpenSSL built from source and linked in (feature vendored-openssl), so that they load
# into Falco on any glibc >= 2.28 host (RHEL 8, Debian 10, Ubuntu 20.04 and later) whatever
# its OpenSSL.
#
# Usage: scripts/dist.sh [--so [ARCH=]PATH]... [--out DIR] [--repo REGISTRY/NAMESPACE]
#   --so [ARCH=]PATH  package this already-built library as ARCH (x86_64 or aarch64; default:
#                     this machine's) instead of building both; repeatable
#   --out DIR         write there instead of dist/
#   --repo R          where the printed push commands publish (default ghcr.io/falcosecurity/plugins);
#                     the artifacts go to R/plugin/k8saudit-ovh and R/ruleset/k8saudit-ovh
# Env: GZIP_LEVEL (default 9), SOURCE_DATE_EPOCH, CARGO_TARGET_DIR.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/dist"
repo="ghcr.io/falcosecurity/plugins"
declare -A so=()
while [ $# -gt 0 ]; do
  case "$1" in
    --so)
      [ $# -ge 2 ] || { echo "dist.sh: --so needs a path" >&2; exit 2; }
      case "$2" in
        x86_64=*|aarch64=*) so[${2%%=*}]="${2#*=}" ;;
        *=*) echo "dist.sh: --so $2: the architecture is x86_64 or aarch64" >&2; exit 2 ;;
        *) so[$(uname -m)]="$2" ;;
      esac
      shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --repo) repo="${2%/}"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "dist.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

name=k8saudit-ovh
rules_name=$name-rules
version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
[ -n "$version" ] || { echo "dist.sh: no version in Cargo.toml" >&2; exit 1; }
rules=(rules/k8s_audit_ovh_overlay.yaml rules/k8s_audit_ovh_rules.yaml rules/k8s_audit_ovh_json_rules.yaml rules/k8s_audit_ovh_sandbox_rules.yaml)
arches=(x86_64 aarch64)
glibc=2.28
# The plugin asks Falco for plugin API 3.11 (src/plugin.rs, through falco_plugin); Falco
# 0.41.0 (libs 0.21.0) is the first to offer it, and its rules engine is 0.50.0. The rules
# files say the same in required_engine_version, so an older Falco refuses them by name.
plugin_api=3.11.0
engine=0.50.0

# The rules artifact depends on every plugin its files require (required_plugin_versions):
# k8saudit-ovh, and Falco's json plugin (k8s_audit_ovh_json_rules.yaml reads jevt.* fields, and
# the overlay goes with Falco's stock rules, which need it too), each at the newest version the
# files name. falcoctl install resolves those dependencies by name through its indexes (json is
# in falcosecurity's). k8saudit-ovh's must be this release or an older one of the same major:
# rules that require the oldest plugin that has what they use keep working when falcoctl
# follow brings them to a Falco whose plugin is older than the rules' release.
# Prints "name version" per (plugin, file) pair; "ALTERNATIVES file" where a file gives
# alternatives, which --depends-on NAME:VERSION cannot say.
required_plugins() {
  local f
  for f in "${rules[@]}"; do
    awk -v f="$f" '
      /^- required_plugin_versions:/ {b = 1; next}
      b && /^[^ #]/ {b = 0}
      b && /^ *alternatives:/ {print "ALTERNATIVES", f}
      b && /^  - name: / {n = $3; next}
      b && /^    version: / && n != "" {print n, $2; n = ""}
    ' "$root/$f"
  done
}
required="$(required_plugins)"
if grep -q '^ALTERNATIVES ' <<<"$required"; then
  echo "dist.sh: $(sed -n 's/^ALTERNATIVES //p' <<<"$required" | sort -u | tr '\n' ' ')gives alternatives in required_plugin_versions: the printed --depends-on do not carry them" >&2
  exit 1
fi
newest_required() { # plugin name -> the newest version the rules files require of it
  awk -v n="$1" '$1 == n {print $2}' <<<"$required" | sort -V | tail -n 1
}
requires_plugin="$(newest_required "$name")"
if [ -z "$requires_plugin" ] || [ "${requires_plugin%%.*}" != "${version%%.*}" ] ||
   [ "$(printf '%s\n%s\n' "$requires_plugin" "$version" | sort -V | tail -n 1)" != "$version" ]; then
  echo "dist.sh: the rules files must require $name ${version%%.*}.x, at most $version (required_plugin_versions); they require '${requires_plugin}'" >&2
  exit 1
fi
# --depends-on flags, one per plugin (falcoctl records each as a dependency; "a|b" in one flag
# would make b an alternative to a): this plugin first, then the others by name.
depends_on="--depends-on $name:$requires_plugin"
for p in $(awk -v n="$name" '$1 != n {print $1}' <<<"$required" | sort -u); do
  depends_on+=" --depends-on $p:$(newest_required "$p")"
done
engine_mismatch=()
for f in "${rules[@]}"; do
  grep -qx -- "- required_engine_version: $engine" "$root/$f" || engine_mismatch+=("$f")
done

if [ ${#so[@]} -eq 0 ]; then
  # A release: both architectures, and rules that state the Falco range the plugin needs.
  if [ ${#engine_mismatch[@]} -gt 0 ]; then
    echo "dist.sh: ${engine_mismatch[*]}: required_engine_version must be $engine (Falco 0.41.0, the first with plugin API $plugin_api)" >&2
    exit 1
  fi
  command -v cargo-zigbuild >/dev/null 2>&1 || {
    echo "dist.sh: cargo-zigbuild not found; it builds for glibc $glibc from any host. Install it with" >&2
    echo "  pip install cargo-zigbuild==0.24.1 ziglang==0.17.1" >&2
    echo "or package libraries you built yourself with --so ARCH=PATH." >&2
    exit 1
  }
  targets=()
  for a in "${arches[@]}"; do
    if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$a-unknown-linux-gnu"; then
      rustup target add "$a-unknown-linux-gnu"
    fi
    targets+=(--target "$a-unknown-linux-gnu.$glibc")
  done
  (cd "$root" && cargo zigbuild --release --locked --lib --features vendored-openssl "${targets[@]}")
  target_dir="${CARGO_TARGET_DIR:-target}"
  case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
  for a in "${arches[@]}"; do
    so[$a]="$target_dir/$a-unknown-linux-gnu/release/libk8saudit_ovh.so"
  done
elif [ ${#engine_mismatch[@]} -gt 0 ]; then
  echo "dist.sh: warning: ${engine_mismatch[*]}: required_engine_version is not $engine; a release build refuses that" >&2
fi

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

plugin_tgzs=()
platforms=()
for a in "${arches[@]}"; do
  [ -n "${so[$a]:-}" ] || continue
  [ -f "${so[$a]}" ] || { echo "dist.sh: plugin library ${so[$a]} not found" >&2; exit 1; }
  mkdir "$stage/$a"
  install -m 0755 "${so[$a]}" "$stage/$a/lib$name.so"
  tgz="$name-$version-linux-$a.tar.gz"
  pack "$out/$tgz" "$stage/$a" "lib$name.so"
  plugin_tgzs+=("$tgz")
  # OCI platform names, as falcoctl matches them against Go's GOARCH.
  case "$a" in x86_64) platforms+=(linux/amd64) ;; aarch64) platforms+=(linux/arm64) ;; esac
done

mkdir "$stage/rules"
rule_files=()
for f in "${rules[@]}"; do
  install -m 0644 "$root/$f" "$stage/rules/"
  rule_files+=("$(basename "$f")")
done
# falcosecurity/plugins' registry tool builds a rules artifact's dependencies from the files of
# its archive, in archive order, a later file's version of a plugin replacing an earlier one's:
# tests/dist.rs checks that, in this order, the last file to name each plugin requires the
# version the printed --depends-on say.
rules_tgz="$rules_name-$version.tar.gz"
pack "$out/$rules_tgz" "$stage/rules" "${rule_files[@]}"

(cd "$out" && sha256sum "${plugin_tgzs[@]}" "$rules_tgz" > SHA256SUMS)

for f in "${plugin_tgzs[@]}" "$rules_tgz" SHA256SUMS; do echo "Wrote $out/$f"; done

# Floating tags (0, 0.7, latest) let installs and follow track a release line; a pre-release
# gets none, as upstream does.
case "$version" in
  *-*) tags="" ;;
  *) tags=" --add-floating-tags --tag latest" ;;
esac
plugin_files=""
for i in "${!plugin_tgzs[@]}"; do
  plugin_files+=" \\
    $out/${plugin_tgzs[$i]} --platform ${platforms[$i]}"
done
cat <<MSG

Check them before publishing: K8SAUDIT_OVH_DIST_DIR=$out cargo test --test dist (with FALCO
set for the load check), or .ci/dist-check, which builds and checks.
To publish (docs/install.md, "Publishing a release"). Both platforms go in one push: a push
replaces what the tag held.
  falcoctl registry push --type plugin --name $name --version $version \\
    --requires plugin_api_version:$plugin_api$tags \\
    $repo/plugin/$name:$version$plugin_files
  falcoctl registry push --type rulesfile --name $rules_name --version $version \\
    $depends_on \\
    --requires engine_version_semver:$engine$tags \\
    $repo/ruleset/$name:$version $out/$rules_tgz
Then sign each by the digest its push printed, so that falcoctl's verification passes:
  cosign sign --yes $repo/plugin/$name@<digest>
  cosign sign --yes $repo/ruleset/$name@<digest>
MSG
if [ ${#plugin_tgzs[@]} -ne ${#arches[@]} ]; then
  echo "Warning: only ${platforms[*]} packaged: pushing this would drop the other platform from $repo/plugin/$name:$version. Run scripts/dist.sh without --so for a release."
fi
