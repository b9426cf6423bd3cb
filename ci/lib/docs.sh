# Shared by the scripts that write their results into docs (sourced): one section of a Markdown
# file, between the lines `<!-- NAME:begin -->` and `<!-- NAME:end -->`, is replaced.
# shellcheck shell=bash

# write_marked_section DOC NAME TABLE: replaces what stands between DOC's NAME markers with the
# file TABLE (written to a temporary copy first, so a failure leaves DOC as it was). Fails with a
# message when DOC has no such markers.
write_marked_section() {
  local doc="$1" name="$2" table="$3"
  if ! grep -q "^<!-- $name:begin -->\$" "$doc" || ! grep -q "^<!-- $name:end -->\$" "$doc"; then
    echo "no <!-- $name:begin --> / <!-- $name:end --> markers in $doc" >&2
    return 1
  fi
  local tmp
  tmp="$(mktemp "${TMPDIR:-/tmp}/marked-section.XXXXXX")"
  awk -v table="$table" -v begin="<!-- $name:begin -->" -v end="<!-- $name:end -->" '
    $0 == begin { print; while ((getline l < table) > 0) print l; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }
  ' "$doc" >"$tmp"
  cp "$tmp" "$doc"
  rm -f "$tmp"
}
