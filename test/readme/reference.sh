#!/usr/bin/env bash
# reference.sh: rewrites the reference section of README.md (between
# "<!-- reference: begin" and "<!-- reference: end") with what
# test/readme/reference.sql prints for the installed extension, in a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${CDP_README_IN_CLUSTER:-}" ]; then
	CDP_README_IN_CLUSTER=1 exec test/cluster.sh bash test/readme/reference.sh
fi
new=$(mktemp)
trap 'rm -f "$new" "$new.md"' EXIT
db=cdp_readme_reference_$$
createdb "$db"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION cdp' -f test/readme/reference.sql >"$new"
dropdb "$db"
grep -q '^<!-- reference: begin' README.md && grep -q '^<!-- reference: end' README.md ||
	{ echo "README.md has no reference markers" >&2; exit 1; }
awk -v new="$new" '
	/^<!-- reference: end/ { on = 0 }
	!on { print }
	/^<!-- reference: begin/ { on = 1; while ((getline line < new) > 0) print line }
' README.md >"$new.md"
cat "$new.md" >README.md
echo "README.md: reference rewritten ($(wc -l <"$new") lines)"
