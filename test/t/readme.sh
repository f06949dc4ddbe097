#!/usr/bin/env bash
# readme.sh: every SQL example in README.md runs as written, in order, in a
# fresh database, and the README's reference is what the catalog says.
#
# Conventions of README.md that this test enforces:
# - A fence opened with ```sql is run.  All of them run in order in ONE psql
#   session (psql -X, ON_ERROR_STOP) on a new empty database, with no preamble:
#   the README's first sql block itself says CREATE EXTENSION cdp.  Examples
#   therefore stand on their own: they find contacts with cdp.find_contact(...)
#   instead of hard-coded ids, and later blocks may use what earlier ones made.
#   A block fails on an ERROR or a WARNING, and on a last statement without
#   its semicolon (a statement is appended after each block, so an unfinished
#   one is a syntax error).  The failing block is named by its number, its
#   line in README.md and its first line; the blocks after it are skipped.
# - ```sql skip: <reason> shows SQL that the test cluster cannot run (pg_cron
#   is not preloaded there); it is reported as a TAP skip with the reason.
# - Any other fence language (```text for output and errors, ```sh) is not
#   run.  A fence without a language is refused, so that an SQL example cannot
#   escape the test by accident.
# - The lines between "<!-- reference: begin" and "<!-- reference: end" are
#   exactly what test/readme/reference.sql prints for the installed extension
#   (test/readme/reference.sh rewrites them), and every function, type and
#   table of schema cdp has a comment.
set -uo pipefail
cd "$(dirname "$0")/../.."
readme=${CDP_README:-README.md}	# another file, to try the test itself
db=cdp_readme_$$
work=$(mktemp -d)
cleanup() {
	rm -rf "$work"
	dropdb --if-exists "$db" >/dev/null 2>&1
	dropdb --if-exists "${db}_ref" >/dev/null 2>&1
}
trap cleanup EXIT
n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# Split README.md into fenced blocks: $work/blocks lists
# "<number> <line> <language...>" and $work/block.<number> holds each body
# (indentation of an indented fence removed).
awk -v dir="$work" '
	!inside && /^[ \t]*```/ {
		inside = 1; count++
		match($0, /^[ \t]*/); indent = RLENGTH
		info = substr($0, indent + 4); sub(/^[ \t]+/, "", info); sub(/[ \t]+$/, "", info)
		if (info == "") info = "-"
		print count, NR, info > (dir "/blocks")
		body = dir "/block." count; printf "" > body
		next
	}
	inside && /^[ \t]*```[ \t]*$/ { inside = 0; close(body); next }
	inside { line = $0; if (substr(line, 1, indent) ~ /^[ \t]*$/) line = substr(line, indent + 1); print line > body }
	END { if (inside) print "unclosed fence at end of file" > (dir "/unclosed") }
' "$readme"

sql_blocks=$(awk '$3 == "sql" { c++ } END { print c + 0 }' "$work/blocks")
echo "1..$((sql_blocks + 4))"

bad=$(awk '$3 == "-" { printf "line %s; ", $2 }' "$work/blocks")
[ -z "$bad" ] && [ ! -e "$work/unclosed" ]
ok $? "every fence of README.md names its language and is closed"
[ -n "$bad" ] && echo "# fences without a language: $bad"
[ -e "$work/unclosed" ] && echo "# $(cat "$work/unclosed")"

# One script: a marker on stderr before each block (so that it is ordered
# with the errors), then the block, then a statement that fails if the block
# left one unfinished.
script=$work/readme.psql
: >"$script"
while read -r num line lang rest; do
	[ "$lang" = sql ] || continue
	{ w=${rest%% *}; [ "${w%:}" = skip ]; } && continue
	{
		echo "\\warn @@begin $num"
		cat "$work/block.$num"
		echo "SELECT 'end of block $num' AS readme_block_end \\g /dev/null"
		echo "\\warn @@end $num"
	} >>"$script"
done <"$work/blocks"

createdb "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script" >"$work/out" 2>"$work/err"
status=$?
ok "$status" "the sql blocks of README.md run in order in a fresh database (psql exit status $status)"

# Which block failed: the block of the last marker before the first ERROR or
# WARNING; a block is passed when its end marker came before any of them.
failed_block=$(awk '
	/^@@begin / { current = $2; next }
	/^@@end / { next }
	/(ERROR|WARNING|FATAL|PANIC):/ && !found { found = current }
	END { print found + 0 }' "$work/err")
[ "$status" -ne 0 ] && [ "$failed_block" -eq 0 ] && failed_block=-1
while read -r num line lang rest; do
	[ "$lang" = sql ] || continue
	first=$(grep -m1 -v '^[[:space:]]*$' "$work/block.$num" | cut -c1-80)
	what="block $num (README.md line $line): $first"
	if { w=${rest%% *}; [ "${w%:}" = skip ]; }; then
		n=$((n + 1))
		reason=${rest#skip}
		reason=${reason#:}
		echo "ok $n - $what # SKIP${reason:- no reason given}"
	elif [ "$failed_block" -ne 0 ] && { [ "$failed_block" -lt 0 ] || [ "$num" -gt "$failed_block" ]; }; then
		n=$((n + 1))
		echo "ok $n - $what # SKIP not run: an earlier block failed"
	elif [ "$num" -eq "$failed_block" ]; then
		ok 1 "$what"
		awk -v b="$num" '$0 == "@@begin " b { on = 1; next } on' "$work/err" | head -20 | sed 's/^/# /'
	else
		ok 0 "$what"
	fi
done <"$work/blocks"
if [ "$status" -ne 0 ] && [ "$failed_block" -le 0 ]; then
	grep -v '^@@' "$work/err" | head -20 | sed 's/^/# /'
fi

# The reference, from a database that has nothing but the extension.
awk '/^<!-- reference: end/ { on = 0 } on { print } /^<!-- reference: begin/ { on = 1 }' "$readme" >"$work/reference.readme"
createdb "${db}_ref" && psql -X -q -At -v ON_ERROR_STOP=1 -d "${db}_ref" -c 'CREATE EXTENSION cdp' \
	-f test/readme/reference.sql >"$work/reference.catalog" 2>&1
ref_status=$?
[ "$ref_status" -eq 0 ] && [ -s "$work/reference.readme" ] &&
	diff -u "$work/reference.readme" "$work/reference.catalog" >"$work/reference.diff"
ok $? "the README's reference equals test/readme/reference.sql on the installed extension"
if [ -s "$work/reference.diff" ] || [ ! -s "$work/reference.readme" ]; then
	[ -s "$work/reference.readme" ] || echo "# no reference section between <!-- reference: begin and <!-- reference: end"
	head -60 "$work/reference.diff" | sed 's/^/# /'
	echo "# to update it: bash test/readme/reference.sh"
fi
! grep -q 'no comment\*\*' "$work/reference.catalog"
ok $? "every function, type and table of schema cdp has a comment"
grep 'no comment\*\*' "$work/reference.catalog" | sed 's/^/# /'
[ "$failed" -eq 0 ]
