# Makefile for cdp, a Customer Data Platform inside PostgreSQL (PGXS).
#   make            build cdp.so and the install script
#   make demo       the main job, on a throwaway cluster (installs what it needs)
#   make test       every test, on a throwaway cluster (installs what it needs)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each
#   make bench      the benchmarks in test/bench

EXTENSION  = cdp
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" cdp.control)

MODULE_big = cdp
OBJS = \
	src/cdp.o \
	src/identifier/text_core.o \
	src/identifier/email_core.o \
	src/identifier/ident_core.o \
	src/identifier/phone_core.o \
	src/identifier/phone_shim.o \
	src/identifier/normalize.o \
	src/identifier/identifier_fmgr.o \
	src/identifier/types_fmgr.o \
	src/spi_plans.o \
	src/copy_rows.o \
	src/identity/kinds.o \
	src/identity/identifier_locks.o \
	src/identity/contacts.o \
	src/identity/resolve_input.o \
	src/identity/merge.o \
	src/identity/resolve.o \
	src/identity/resolve_write.o \
	src/identity/union_find.o \
	src/identity/merge_rules.o \
	src/identity/merge_inputs.o \
	src/identity/bulk_read.o \
	src/identity/bulk_link.o \
	src/identity/bulk_write.o \
	src/identity/bulk_resolve.o \
	src/model/upsert_fmgr.o \
	src/model/set_profile.o \
	src/segment/segment_lexer.o \
	src/segment/segment_parse.o \
	src/segment/segment_print.o \
	src/segment/segment_codec.o \
	src/segment/segment_type.o \
	src/segment/segment_json.o \
	src/segment/segment_catalog.o \
	src/segment/segment_values.o \
	src/segment/segment_compile.o \
	src/segment/segment_eval.o \
	src/segment/segment_explain.o \
	src/segment/segment_membership.o \
	src/segment/segment_pass.o \
	src/activation/changes.o \
	src/activation/changes_bulk.o \
	src/citus/citus.o

# The install script, in dependency order.
SQL_SOURCES = \
	src/cdp.sql \
	src/identifier/kinds.sql \
	src/identifier/identifier.sql \
	src/identifier/email_type.sql \
	src/identifier/email_address_type.sql \
	src/identifier/phone_type.sql \
	src/identity/tables.sql \
	src/identity/kind_integrity.sql \
	src/identity/identity.sql \
	src/identity/graph.sql \
	src/model/catalog.sql \
	src/model/organizations.sql \
	src/model/documents.sql \
	src/model/profiles.sql \
	src/model/taxonomies.sql \
	src/model/events.sql \
	src/model/archive.sql \
	src/model/merge.sql \
	src/segment/segment_type.sql \
	src/segment/segment_json.sql \
	src/segment/segments.sql \
	src/activation/changes.sql \
	src/segment/membership.sql \
	src/activation/views.sql \
	src/activation/roles.sql \
	src/activation/ingest.sql \
	src/citus/distribute.sql \
	src/citus/identity.sql

# Upgrade scripts made from the sources (so they cannot drift from the install
# script) are built; hand-written ones in src/updates are installed as they are.
UPGRADES_built = src/updates/cdp--0.2.0--0.3.0.sql
DATA_built = cdp--$(EXTVERSION).sql $(UPGRADES_built)
DATA = $(filter-out $(UPGRADES_built),$(wildcard src/updates/cdp--*--*.sql))
EXTRA_CLEAN = src/identifier/email_type.sql src/identifier/email_address_type.sql src/identifier/phone_type.sql \
	test/fuzz/bin results regression.diffs regression.out output_iso

REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=cdp --inputdir=.

# Isolation specs (PostgreSQL's isolation tester): two sessions per pair of
# write paths, in forced interleavings; results go to output_iso/.
ISOLATION = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --load-extension=cdp --inputdir=test/isolation

PG_CPPFLAGS = -I$(CURDIR)/src
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lphonenumber -lidn2 -lunistring -lstdc++

# No LLVM bitcode: JIT inlining of these functions is not worth a clang
# dependency on every machine that builds cdp.
override with_llvm = no

# Rebuild objects when a header they include changes.
override autodepend = yes

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

cdp--$(EXTVERSION).sql: $(SQL_SOURCES) cdp.control
	cat $(SQL_SOURCES) > $@

# The upgrade from the previous release, made from the same sources as the
# install script so that the two cannot drift apart: what changed in tables
# (0.3.0-before.sql), the sources new in this release whole, every function
# and comment of the other sources (replace_functions.awk: CREATE OR REPLACE),
# then 0.3.0-after.sql.  test/t/upgrade.sh compares the result with a fresh
# install.  Upgrades of older releases are frozen files in src/updates.
UPGRADE_NEW_SOURCES = src/identifier/email_address_type.sql src/activation/changes.sql \
	src/segment/membership.sql src/activation/views.sql src/activation/roles.sql src/activation/ingest.sql \
	src/citus/distribute.sql src/citus/identity.sql
UPGRADE_FUNCTION_SOURCES = $(filter-out $(UPGRADE_NEW_SOURCES),$(SQL_SOURCES))

src/updates/cdp--0.2.0--0.3.0.sql: src/updates/0.3.0-before.sql $(UPGRADE_NEW_SOURCES) \
		src/updates/replace_functions.awk $(UPGRADE_FUNCTION_SOURCES) src/updates/0.3.0-after.sql
	{ cat src/updates/0.3.0-before.sql $(UPGRADE_NEW_SOURCES); \
	  awk -f src/updates/replace_functions.awk $(UPGRADE_FUNCTION_SOURCES); \
	  cat src/updates/0.3.0-after.sql; } > $@

src/identifier/email_type.sql: src/identifier/normtext_type.sql.in
	sed -e 's/@TYPE@/email/g' -e 's/@INPUT_VOLATILITY@/IMMUTABLE/g' \
	    -e 's/@DESCRIPTION@/An email address, stored as its normalised matching key/g' $< > $@

src/identifier/email_address_type.sql: src/identifier/normtext_type.sql.in
	sed -e 's/@TYPE@/email_address/g' -e 's/@INPUT_VOLATILITY@/IMMUTABLE/g' \
	    -e 's/@DESCRIPTION@/An email address as it is delivered to: trimmed, NFC, the domain in lower-case A-labels, the local part as written/g' $< > $@

src/identifier/phone_type.sql: src/identifier/normtext_type.sql.in
	sed -e 's/@TYPE@/phone/g' -e 's/@INPUT_VOLATILITY@/STABLE/g' \
	    -e 's/@DESCRIPTION@/A valid phone number in E.164 form; input without + uses cdp.default_region/g' $< > $@

.PHONY: deps demo test fuzz bench soak
deps:
	bash test/deps.sh

demo:
	KEEP=$(KEEP) bash test/demo.sh

test:
	bash test/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	bash test/fuzz/run.sh $(FUZZ_SECONDS)

bench:
	bash test/bench/run.sh

# SOAK_SECONDS (default 300), SOAK_CLIENTS (8), SOAK_POOL (400 people)
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CLIENTS=$(SOAK_CLIENTS) SOAK_POOL=$(SOAK_POOL) bash test/soak/soak.sh
