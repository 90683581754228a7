/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event: the event the rules evaluator reads.
 *
 * One struct rules_event describes one completed syscall (Falco's exit event, evt.dir = <) with
 * everything the filter fields need. Values are set by field id; a field whose bit is not set is
 * absent: it matches no comparison except `not ... exists` and prints as <NA>.
 *
 * Strings are BORROWED: the event stores pointers, the filler keeps the text alive until the
 * evaluation and formatting of that event are done. Nothing in here allocates; an event can live on
 * the stack, and rules_event_reset() makes it reusable for the next event (cost: clearing a
 * bitmap).
 *
 * Who fills what (the live sensor):
 *   - always: type (rules_evttype_from_name or the enum), ts_ns, PROC_NAME, PROC_PID, PROC_PPID,
 *     PROC_EXEPATH, PROC_EXE, PROC_ARGS and PROC_CMDLINE (name + " " + args), USER_UID, USER_NAME,
 *     GROUP_GID, PROC_TTY, PROC_CWD, CONTAINER_ID ("host" outside containers), EVT_RAWRES/EVT_RES,
 *     ancestors with rules_event_push_ancestor() (parent first, as many as known, up to 16);
 *   - in a container: CONTAINER_NAME, CONTAINER_IMAGE_REPOSITORY, CONTAINER_IMAGE_TAG,
 *     CONTAINER_IMAGE, CONTAINER_PRIVILEGED, K8S_NS_NAME, K8S_POD_NAME (from the process table /
 *     CRI / kubelet);
 *   - open*: FD_NAME, FD_NUM, FD_TYPE/FD_TYPECHAR, args "flags" ("O_RDONLY|O_CLOEXEC" text, as
 *     Falco prints it), "name" or "path"; connect/accept: FD_TYPE (ipv4/ipv6/unix), FD_TYPECHAR,
 *     FD_L4PROTO, FD_CIP/FD_SIP/FD_LIP/FD_RIP, ports, FD_NAME ("1.2.3.4:5->6.7.8.9:80");
 *     execve: args "filename" optional, PROC_ENV optional (rules_event_push_env);
 *   - then call rules_event_derive(): it fills what can be computed from the above when it was
 *     not set (fd.directory, fd.filename, fd.nameraw, proc.pname/pexepath/pexe from the ancestors,
 *     evt.is_open_read/write/exec/create from the "flags" argument, evt.failed, syscall.type,
 *     fd.ip/fd.net/fd.port family from client/server, fs.path.*).
 *
 * The replay reader (trace.h) fills the same struct from a JSON line.
 */
#ifndef VIGIL_LIB_RULES_EVENT_H
#define VIGIL_LIB_RULES_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rules/evttypes.h"
#include "lib/rules/fieldlist.h"

/* Field ids: RULES_F_PROC_NAME, RULES_F_FD_NAME, ... (see fieldlist.h). */
enum rules_field {
#define RULES_X_FIELD_ENUM(id, name, type, flags, desc) RULES_F_##id,
	RULES_FIELD_LIST(RULES_X_FIELD_ENUM)
#undef RULES_X_FIELD_ENUM
	    RULES_F__COUNT
};

/* Event types: RULES_EVT_execve, RULES_EVT_openat, ... (see evttypes.h); 0 is "unknown". */
enum rules_evt_type {
	RULES_EVT__UNKNOWN = 0,
#define RULES_X_EVT_ENUM(name) RULES_EVT_##name,
	RULES_EVTTYPE_LIST(RULES_X_EVT_ENUM)
#undef RULES_X_EVT_ENUM
	    RULES_EVT__COUNT
};

#define RULES_EVENT_MAX_ANC 16
#define RULES_EVENT_MAX_ARGS 16
#define RULES_EVENT_MAX_ENV 64
#define RULES_EVENT_MAX_MOUNTS 32
#define RULES_EVENT_MAX_LIST 8

/* One value: text (s, len) for STR/IP fields, n for NUM/BOOL fields. */
struct rules_value {
	const char *s;
	uint32_t len;
	int64_t n;
};

/* A borrowed name/value pair (event arguments, mounts: key = source, val = dest). */
struct rules_kv {
	const char *key;
	const char *val;
	uint32_t klen;
	uint32_t vlen;
};

struct rules_event {
	uint16_t type;	/* enum rules_evt_type */
	uint64_t ts_ns; /* wall clock, ns since the epoch (UTC) */
	uint64_t set[(RULES_F__COUNT + 63) / 64];
	struct rules_value v[RULES_F__COUNT];
	/* ancestors, parent first: proc.aname[1] = anc_name[0] */
	uint8_t nanc;
	const char *anc_name[RULES_EVENT_MAX_ANC];
	const char *anc_exe[RULES_EVENT_MAX_ANC];
	const char *anc_exepath[RULES_EVENT_MAX_ANC];
	int64_t anc_pid[RULES_EVENT_MAX_ANC];
	/* syscall arguments by name: evt.arg.flags, evt.arg[0] */
	uint8_t nargs;
	struct rules_kv args[RULES_EVENT_MAX_ARGS];
	/* environment entries "K=V" */
	uint8_t nenv;
	struct rules_kv env[RULES_EVENT_MAX_ENV];
	/* container mounts (key source, val dest) */
	uint8_t nmounts;
	struct rules_kv mounts[RULES_EVENT_MAX_MOUNTS];
	/* fd.types: one entry per fd */
	uint8_t ntypes;
	const char *types[RULES_EVENT_MAX_LIST];
};

/* Clears every value (all fields absent), type unknown, ts 0. */
void rules_event_reset(struct rules_event *ev);

/* Sets a text field; s is borrowed (NUL-terminated). NULL s leaves the field absent. */
void rules_event_set_str(struct rules_event *ev, enum rules_field f, const char *s);

/* Sets a text field from s[0..len) (s need not be NUL-terminated for the evaluator, but it must be
 * for output formatting; prefer NUL-terminated text). */
void rules_event_set_strn(struct rules_event *ev, enum rules_field f, const char *s, size_t len);

/* Sets a numeric or boolean field. */
void rules_event_set_num(struct rules_event *ev, enum rules_field f, int64_t n);

/* Marks a field absent again. */
void rules_event_unset(struct rules_event *ev, enum rules_field f);

/* True when the field has a value. */
static inline bool rules_event_has(const struct rules_event *ev, enum rules_field f)
{
	return (ev->set[f >> 6] >> (f & 63)) & 1;
}

/* Appends an ancestor (call parent first, then grandparent, ...); strings borrowed, NULL allowed
 * for an unknown exe/exepath. Returns 0 or -ENOSPC past RULES_EVENT_MAX_ANC. */
int rules_event_push_ancestor(struct rules_event *ev, const char *name, const char *exe,
			      const char *exepath, int64_t pid);

/* Appends a syscall argument (evt.arg.NAME, evt.arg[i] by order); borrowed. 0 or -ENOSPC. */
int rules_event_push_arg(struct rules_event *ev, const char *name, const char *val);

/* Appends an environment entry "KEY=VALUE"; borrowed. 0 or -ENOSPC. */
int rules_event_push_env(struct rules_event *ev, const char *entry);

/* Appends a container mount source -> dest; borrowed. 0 or -ENOSPC. */
int rules_event_push_mount(struct rules_event *ev, const char *source, const char *dest);

/* Finds argument NAME; returns the value (borrowed) or NULL. */
const char *rules_event_arg(const struct rules_event *ev, const char *name);

/* Fills derived fields that are absent (see the header comment). Idempotent. */
void rules_event_derive(struct rules_event *ev);

/* Event type by Falco name ("openat"), or RULES_EVT__UNKNOWN. */
enum rules_evt_type rules_evttype_from_name(const char *name);

/* Falco name of an event type (static string); "unknown" for RULES_EVT__UNKNOWN/out of range. */
const char *rules_evttype_name(unsigned type);

/* Field id by exact catalogue name ("proc.name"), or -1. Arguments are not accepted here. */
int rules_field_from_name(const char *name);

/* Catalogue name of a field (static string) or NULL when out of range. */
const char *rules_field_name(unsigned f);

#endif
