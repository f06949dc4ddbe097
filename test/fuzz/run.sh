#!/usr/bin/env bash
# run.sh: `make fuzz`.  Builds the libFuzzer targets (ASan + UBSan) over the
# PostgreSQL-free identifier cores and runs each for SECONDS seconds.
#   bash test/fuzz/run.sh [SECONDS] [TARGET...]     (default 60, all targets)
# Seeds are in seeds/<target>/, the growing corpora in corpus-<target>/ and
# the binaries and logs in bin/ (both ignored by git).  A crashing input is
# written to crashes/<target>-crash-<sha1>; the script exits non-zero if any
# target crashed or reported a sanitizer error.  FUZZ_KEEP_GOING=1 runs
# each target in libFuzzer's fork mode, which carries on after a crash and
# collects every crashing input it meets within the time.
set -uo pipefail
cd "$(dirname "$0")"
fuzz=$PWD
src=$fuzz/../../src

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_email fuzz_phone fuzz_uuid fuzz_oauth fuzz_text fuzz_segment fuzz_merge_rules)

CC=${CC:-clang}
CXX=${CXX:-clang++}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 $SAN -I$src"
LIBS="-lphonenumber -lidn2 -lunistring -lstdc++"

# The core sources each target needs, besides its own file.
sources() {
	local id=$src/identifier
	case $1 in
		fuzz_email) echo "$id/email_core.c $id/text_core.c" ;;
		fuzz_phone) echo "$id/phone_core.c $id/text_core.c" ;;
		fuzz_uuid | fuzz_oauth) echo "$id/ident_core.c $id/text_core.c" ;;
		fuzz_text) echo "$id/text_core.c" ;;
		fuzz_segment) local sg=$src/segment
			echo "$sg/segment_lexer.c $sg/segment_parse.c $sg/segment_print.c $sg/segment_codec.c" ;;
		fuzz_merge_rules) echo "$src/identity/merge_rules.c $src/identity/union_find.c" ;;
		*) echo "run.sh: unknown target $1" >&2; return 1 ;;
	esac
}

# Extra libFuzzer options per target.  None today: libphonenumber keeps its
# PhoneNumberUtil singleton for the life of the process, but it stays
# reachable, so LeakSanitizer does not report it and fuzz_phone keeps leak
# detection on like the others.
options() {
	case $1 in
		*) echo "" ;;
	esac
}

build() {
	local t=$1 obj=bin/obj-$1
	mkdir -p "$obj"
	local objs=()
	for f in $(sources "$t"); do
		local o=$obj/$(basename "${f%.*}").o
		$CC $CFLAGS -c "$f" -o "$o" || return 1
		objs+=("$o")
	done
	if [ "$t" = fuzz_phone ]; then
		$CXX -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
			-std=c++17 -I"$src" -c "$src/identifier/phone_shim.cpp" -o "$obj/phone_shim.o" || return 1
		objs+=("$obj/phone_shim.o")
	fi
	$CC $CFLAGS -c "$t.c" -o "$obj/$t.o" || return 1
	# linked by the C++ driver so the UBSan C++ runtime comes along
	$CXX $SAN "$obj/$t.o" "${objs[@]}" $LIBS -o "bin/$t.new" && mv "bin/$t.new" "bin/$t"
}

mkdir -p bin crashes
status=0
summary=()
for t in "${targets[@]}"; do
	echo "== $t: building"
	if ! build "$t"; then
		summary+=("$t: BUILD FAILED")
		status=1
		continue
	fi
	# Inputs that crashed before must not crash any more.
	known=(crashes/"$t"-crash-*)
	if [ -e "${known[0]}" ]; then
		if "bin/$t" $(options "$t") "${known[@]}" >"bin/$t.replay.log" 2>&1; then
			echo "== $t: ${#known[@]} earlier crash input(s) pass now"
		else
			echo "== $t: an earlier crash input still fails:"
			grep -E -A12 'ERROR: |runtime error:' "bin/$t.replay.log" | head -24
			summary+=("$t: an input in test/fuzz/crashes/ still crashes (bin/$t.replay.log)")
			status=1
		fi
	fi
	mkdir -p "corpus-$t"
	dict=()
	[ -f "dict/$t.dict" ] && dict=("-dict=dict/$t.dict")
	echo "== $t: fuzzing for ${seconds}s (log in test/fuzz/bin/$t.log)"
	keep=()
	[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && keep=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	stamp=$(mktemp)
	# shellcheck disable=SC2046
	"bin/$t" "${keep[@]}" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="crashes/$t-" "${dict[@]}" $(options "$t") \
		"corpus-$t" "seeds/$t" >"bin/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "bin/$t.log" | tail -1)
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "bin/$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "bin/$t.log" | tail -1)
	if [ -z "$runs" ]; then		# fork mode prints no final stats
		runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' "bin/$t.log" | tail -1)
		secs=$(sed -n 's/^#.*exec\/s \([0-9]*\).*/\1/p' "bin/$t.log" | tail -1)
		secs="${secs:-?}, last"
	fi
	corpus=$(find "corpus-$t" -type f | wc -l)
	new_crashes=$(find crashes -name "$t-*" -newer "$stamp" | wc -l)
	rm -f "$stamp"
	if [ $rc -eq 0 ] && [ "$new_crashes" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "bin/$t.log"; then
		summary+=("$t: ok, ${runs:-?} execs (${secs:-?}/s), ${cov:-cov: ?}, corpus $corpus")
	else
		summary+=("$t: FAILED (exit $rc, $new_crashes new crash input(s)), see test/fuzz/bin/$t.log and test/fuzz/crashes/")
		grep -E -A30 'ERROR: |runtime error:|deadly signal' "bin/$t.log" | head -60
		status=1
	fi
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
