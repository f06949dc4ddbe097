# replace_functions.awk
#   Prints every CREATE FUNCTION statement of install-script SQL as CREATE OR
#   REPLACE FUNCTION, and every COMMENT ON FUNCTION, TABLE or COLUMN (comments
#   can be set again at will): the function and comment part of an upgrade
#   script, made from the same sources as the install script so that the two
#   cannot drift apart.
#   Relies on the layout of cdp's SQL files: statements start at column 0,
#   bodies are $$-quoted or BEGIN ATOMIC … END;, comments end in ';.

function dollar_quotes(s,    n) {
	n = gsub(/\$\$/, "&", s)
	return n
}

BEGIN { in_function = 0; in_comment = 0; quoted = 0; atomic = 0 }

{
	line = $0
	if (!in_function && !in_comment) {
		if (line ~ /^CREATE FUNCTION /) {
			in_function = 1; quoted = 0; atomic = 0
			sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", line)
		} else if (line ~ /^COMMENT ON (FUNCTION|TABLE|COLUMN) /) {
			in_comment = 1
		} else
			next
	}
	print line
	if (in_function) {
		if (dollar_quotes($0) % 2 == 1)
			quoted = !quoted
		if (!quoted && $0 ~ /BEGIN ATOMIC/)
			atomic = 1
		if (atomic) {
			if ($0 ~ /^END;/) { in_function = 0; print "" }
		} else if (!quoted && $0 ~ /;[ \t]*$/) {
			in_function = 0; print ""
		}
	} else if (in_comment && $0 ~ /';[ \t]*$/) {
		in_comment = 0; print ""
	}
}
