/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compile: the loaded item tables -> an immutable struct rules_set (conditions compiled to trees
 * with resolved field ids, hash sets for `in`, compiled regexes, evt.type masks and a per-type rule
 * index, outputs split into literal and field parts). Internal to lib/rules; eval.c and format.c
 * read these structures.
 */
#ifndef VIGIL_LIB_RULES_COMPILE_H
#define VIGIL_LIB_RULES_COMPILE_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/rules/arena.h"
#include "lib/rules/cond_lex.h"
#include "lib/rules/event.h"
#include "lib/rules/fields.h"
#include "lib/rules/items.h"

#define RULES_EVW ((RULES_EVT__COUNT + 63) / 64)

enum rules_cx_kind {
	RULES_CX_AND,
	RULES_CX_OR,
	RULES_CX_NOT,
	RULES_CX_CMP,
	RULES_CX_EVTTYPE, /* evt.type = / != / in: a bit test on ev->type */
	RULES_CX_TRUE,
	RULES_CX_FALSE,
	RULES_CX_MEMO, /* a macro's tree, shared by rules: evaluated once per event (slot idx) */
};

/* Macros memoised per event (more macros than this are evaluated without a memo). */
#define RULES_MAX_MEMO 2048

struct rules_cval {
	const char *s;
	uint32_t len;
	int64_t n;
	uint8_t ip[16];
	uint8_t family; /* AF_INET / AF_INET6 for IP fields */
	uint8_t prefix; /* bits compared */
};

struct rules_strset_slot {
	const char *s;
	uint32_t len;
	uint32_t hash;
};

struct rules_strset {
	uint32_t mask;
	struct rules_strset_slot *slots;
};

struct rules_cx {
	uint8_t kind;
	uint8_t op;	/* enum rules_op */
	uint8_t ftype;	/* enum rules_ftype of the field */
	uint8_t simple; /* CMP on a plain one-value field: ev->v[field] */
	uint32_t cost;	/* static cost estimate: AND/OR kids are sorted cheapest first */
	uint16_t field;
	int16_t idx; /* field argument index, -1 when none */
	const char *key;
	uint32_t keylen;
	uint32_t n; /* kids or vals */
	struct rules_cx **kids;
	struct rules_cval *vals;
	struct rules_strset *set;
	regex_t *re;
	uint64_t evmask[RULES_EVW];
};

enum rules_fmt_kind { RULES_FMT_TEXT, RULES_FMT_FIELD };

struct rules_fmt_part {
	uint8_t kind;
	const char *s; /* TEXT: the text; FIELD: the field as written ("proc.aname[2]") */
	uint32_t len;
	struct rules_fref ref;
	uint8_t ftype;
};

struct rules_crule {
	const char *name;
	const char *desc;
	const char *condition;
	const char *output;
	const char *source;
	int priority;
	bool enabled;
	bool active; /* compiled and enabled: takes part in evaluation */
	const char *const *tags;
	size_t ntags;
	struct rules_cx *cx;
	/* necessary conditions: at least one of guards[] holds whenever the rule matches (picked
	 * from the top-level conjuncts, through macros and across or-branches); tested before the
	 * tree to skip most non-matching rules cheaply. nguards 0: no guard. */
#define RULES_MAX_GUARDS 8
	const struct rules_cx *guards[RULES_MAX_GUARDS];
	uint32_t nguards;
	struct rules_fmt_part *fmt;
	size_t nfmt;
	uint64_t evmask[RULES_EVW];
};

/* Guard index of one event type: (field, value) -> positions (in index[t]) of the rules one of
 * whose guards is `field = value` or `field in (.., value, ..)`. Rules whose guards are all of
 * that kind are decided by one probe per field instead of one test per rule. */
#define RULES_GIDX_MAX_POS 1024
#define RULES_GIDX_MAX_FIELDS 16

struct rules_gentry {
	const char *s;
	uint32_t len;
	uint32_t hash;
	uint16_t field;
	uint32_t *pos;
	uint32_t npos, cap;
};

struct rules_gidx {
	uint32_t mask;
	struct rules_gentry *slots;
	uint16_t fields[RULES_GIDX_MAX_FIELDS];
	uint32_t nfields;
	uint8_t *indexed; /* per position: 1 when the rule's guards are all in the map */
	uint64_t always[RULES_GIDX_MAX_POS / 64]; /* positions not decided by the map */
};

struct rules_set {
	struct rules_arena *a;
	struct rules_crule *rules;
	size_t nrules;
	size_t nactive;
	/* per event type: indices of active rules that can match it, in definition order */
	uint32_t *index[RULES_EVT__COUNT];
	uint32_t nindex[RULES_EVT__COUNT];
	struct rules_gidx *gidx[RULES_EVT__COUNT];
	size_t nmemo;				      /* memo slots used (macros) */
	const char **plugin_names, **plugin_versions; /* required_plugin_versions, deduplicated */
	size_t nplugins;
	regex_t **regexes;
	size_t nregexes, capregexes;
	char hash[65];
};

/* Compiles the tables into a new set (arena-owned by the set). Errors and warnings go to d.
 * Returns 0 (rs set even if errors were reported: the caller checks the diags), or -ENOMEM. */
int rules_compile(struct rules_items *it, struct rules_diags *d, struct rules_set **out);

/* FNV-1a hash used by the string sets (never 0). */
uint32_t rules_strset_hash(const char *s, size_t len);

/* Values of the field a comparison node refers to (field, idx, key used), written to out (room
 * for 64); returns how many, 0 when absent. */
int rules_eval_values(const struct rules_cx *x, const struct rules_event *ev,
		      struct rules_value *out);

/* Per-event evaluation state: macro memo and hashes of field values (validity bitmaps). */
struct rules_eval_ctx {
	const struct rules_event *ev;
	uint64_t memo_done[RULES_MAX_MEMO / 64];
	uint64_t memo_val[RULES_MAX_MEMO / 64];
	uint64_t hashed[(RULES_F__COUNT + 63) / 64];
	uint32_t hash[RULES_F__COUNT];
};

/* Evaluates one comparison node (used for rule guards). */
bool rules_cx_eval_cmp(const struct rules_cx *x, struct rules_eval_ctx *ctx);

/* Evaluates one compiled tree (ctx: zeroed bitmaps and ev set before the first rule). */
bool rules_cx_eval(const struct rules_cx *x, struct rules_eval_ctx *ctx);

/* Parses an output text into parts (arena a). On a bad % reference returns -EINVAL with *errpos
 * the byte offset and *why a static message. */
int rules_fmt_compile(struct rules_arena *a, const char *text, struct rules_fmt_part **parts,
		      size_t *nparts, size_t *errpos, const char **why);

#endif
