#!/usr/bin/env bash
# Renders the hotline's Asterisk configuration into an Asterisk config directory.
#
#   render-config.sh <dest-dir> <source-dir>...
#
# Copies every *.conf of the source directories (dialplans/, sip/, docker/asterisk/) flat into
# <dest-dir> and replaces each @@NAME@@ placeholder with the environment variable NAME.
# Secrets therefore live only in the environment (docker/.env), never in the repository.
# Refuses to render (exit 1, nothing half-written) when:
#   * a placeholder has no value, or the value could break the file (newline, ';', '[', ']',
#     leading/trailing blanks);
#   * a *_BINDADDR value is a wildcard address (ARI and AMI must stay on a private interface);
#   * two source directories hold a file of the same name.
# Used by the container entrypoint; also usable on an existing Asterisk host:
#   ARI_PASSWORD=... AMI_PASSWORD=... ASTERISK_HTTP_BINDADDR=127.0.0.1 ... \
#     docker/asterisk/render-config.sh /etc/asterisk dialplans sip docker/asterisk
set -euo pipefail
# Bash 5.2 would treat '&' in a replacement string as "the match"; passwords may contain it.
shopt -u patsub_replacement 2>/dev/null || true

die() { printf 'render-config: %s\n' "$*" >&2; exit 1; }

[ "$#" -ge 2 ] || die "usage: render-config.sh <dest-dir> <source-dir>..."
dest=$1
shift
[ -d "$dest" ] || die "destination $dest is not a directory"

staging=$(mktemp -d "${TMPDIR:-/tmp}/render-config.XXXXXX")
trap 'rm -rf "$staging"' EXIT

for src in "$@"; do
  [ -d "$src" ] || die "source $src is not a directory"
  shopt -s nullglob
  for file in "$src"/*.conf; do
    name=$(basename "$file")
    [ -e "$staging/$name" ] && die "$name exists in more than one source directory"
    cp "$file" "$staging/$name"
  done
  shopt -u nullglob
done

placeholder_re='@@([A-Z][A-Z0-9_]*)@@'
for file in "$staging"/*.conf; do
  [ -e "$file" ] || die "no .conf files in the source directories"
  content=$(<"$file")
  # Each distinct placeholder in this file.
  names=$(grep -oE "$placeholder_re" "$file" | sort -u | sed -E 's/^@@(.*)@@$/\1/' || true)
  for name in $names; do
    [ -n "${!name+set}" ] && [ -n "${!name}" ] || die "$(basename "$file"): environment variable $name is not set"
    value=${!name}
    case $value in
      *$'\n'* | *$'\r'* | *';'* | *'['* | *']'*) die "$name contains a newline, ';', '[' or ']'" ;;
      [[:space:]]* | *[[:space:]]) die "$name starts or ends with blanks" ;;
    esac
    case $name in
      *_BINDADDR)
        case $value in
          0.0.0.0 | :: | '[::]' | '*') die "$name must be a private interface address, not the wildcard $value" ;;
        esac
        ;;
    esac
    content=${content//"@@${name}@@"/"$value"}
  done
  printf '%s\n' "$content" >"$file"
done

# Copy into place only once everything rendered.
for file in "$staging"/*.conf; do
  install -m 0640 "$file" "$dest/$(basename "$file")"
done
