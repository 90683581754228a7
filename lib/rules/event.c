/* SPDX-License-Identifier: Apache-2.0 */
/* event: filling and deriving the fields of a struct rules_event. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/event.h"

static const char *const evt_names[RULES_EVT__COUNT] = {[RULES_EVT__UNKNOWN] = "unknown",
#define RULES_X_EVT_NAME(name) [RULES_EVT_##name] = #name,
							RULES_EVTTYPE_LIST(RULES_X_EVT_NAME)
#undef RULES_X_EVT_NAME
};

static const char *const field_names[RULES_F__COUNT] = {
#define RULES_X_FIELD_NAME(id, name, type, flags, desc) [RULES_F_##id] = name,
    RULES_FIELD_LIST(RULES_X_FIELD_NAME)
#undef RULES_X_FIELD_NAME
};

void rules_event_reset(struct rules_event *ev)
{
	ev->type = RULES_EVT__UNKNOWN;
	ev->ts_ns = 0;
	memset(ev->set, 0, sizeof(ev->set));
	ev->nanc = 0;
	ev->nargs = 0;
	ev->nenv = 0;
	ev->nmounts = 0;
	ev->ntypes = 0;
}

void rules_event_set_strn(struct rules_event *ev, enum rules_field f, const char *s, size_t len)
{
	if (!s || (unsigned)f >= RULES_F__COUNT)
		return;
	ev->v[f].s = s;
	ev->v[f].len = (uint32_t)len;
	ev->v[f].n = 0;
	ev->set[f >> 6] |= 1ULL << (f & 63);
}

void rules_event_set_str(struct rules_event *ev, enum rules_field f, const char *s)
{
	if (s)
		rules_event_set_strn(ev, f, s, strlen(s));
}

void rules_event_set_num(struct rules_event *ev, enum rules_field f, int64_t n)
{
	if ((unsigned)f >= RULES_F__COUNT)
		return;
	ev->v[f].s = NULL;
	ev->v[f].len = 0;
	ev->v[f].n = n;
	ev->set[f >> 6] |= 1ULL << (f & 63);
}

void rules_event_unset(struct rules_event *ev, enum rules_field f)
{
	if ((unsigned)f < RULES_F__COUNT)
		ev->set[f >> 6] &= ~(1ULL << (f & 63));
}

int rules_event_push_ancestor(struct rules_event *ev, const char *name, const char *exe,
			      const char *exepath, int64_t pid)
{
	if (ev->nanc >= RULES_EVENT_MAX_ANC)
		return -ENOSPC;
	ev->anc_name[ev->nanc] = name;
	ev->anc_exe[ev->nanc] = exe;
	ev->anc_exepath[ev->nanc] = exepath;
	ev->anc_pid[ev->nanc] = pid;
	ev->nanc++;
	return 0;
}

static int push_kv(struct rules_kv *arr, uint8_t *n, unsigned max, const char *k, const char *v)
{
	if (*n >= max)
		return -ENOSPC;
	arr[*n].key = k;
	arr[*n].klen = k ? (uint32_t)strlen(k) : 0;
	arr[*n].val = v;
	arr[*n].vlen = v ? (uint32_t)strlen(v) : 0;
	(*n)++;
	return 0;
}

int rules_event_push_arg(struct rules_event *ev, const char *name, const char *val)
{
	return push_kv(ev->args, &ev->nargs, RULES_EVENT_MAX_ARGS, name, val);
}

int rules_event_push_env(struct rules_event *ev, const char *entry)
{
	const char *eq = entry ? strchr(entry, '=') : NULL;
	int err = push_kv(ev->env, &ev->nenv, RULES_EVENT_MAX_ENV, entry, entry);

	if (!err)
		ev->env[ev->nenv - 1].klen =
		    eq ? (uint32_t)(eq - entry) : ev->env[ev->nenv - 1].klen;
	return err;
}

int rules_event_push_mount(struct rules_event *ev, const char *source, const char *dest)
{
	return push_kv(ev->mounts, &ev->nmounts, RULES_EVENT_MAX_MOUNTS, source, dest);
}

const char *rules_event_arg(const struct rules_event *ev, const char *name)
{
	for (unsigned i = 0; i < ev->nargs; i++)
		if (ev->args[i].key && strcmp(ev->args[i].key, name) == 0)
			return ev->args[i].val;
	return NULL;
}

static bool flag_has(const char *flags, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = flags; (p = strstr(p, name)); p += n)
		if ((p == flags || p[-1] == '|') && (p[n] == '\0' || p[n] == '|'))
			return true;
	return false;
}

/* Index of the last path separator of the text value, for fd.directory / fd.filename. */
static void derive_path(struct rules_event *ev)
{
	const struct rules_value *fn = &ev->v[RULES_F_FD_NAME];
	const char *slash;

	if (!rules_event_has(ev, RULES_F_FD_NAME) || !fn->s || fn->s[0] != '/')
		return;
	slash = memrchr(fn->s, '/', fn->len);
	if (!rules_event_has(ev, RULES_F_FD_DIRECTORY))
		rules_event_set_strn(ev, RULES_F_FD_DIRECTORY, fn->s,
				     slash == fn->s ? 1 : (size_t)(slash - fn->s));
	if (!rules_event_has(ev, RULES_F_FD_FILENAME))
		rules_event_set_strn(ev, RULES_F_FD_FILENAME, slash + 1,
				     fn->len - (size_t)(slash + 1 - fn->s));
	if (!rules_event_has(ev, RULES_F_FD_NAMERAW))
		rules_event_set_strn(ev, RULES_F_FD_NAMERAW, fn->s, fn->len);
}

static void copy_if_absent(struct rules_event *ev, enum rules_field dst, enum rules_field src)
{
	if (!rules_event_has(ev, dst) && rules_event_has(ev, src))
		ev->v[dst] = ev->v[src], ev->set[dst >> 6] |= 1ULL << (dst & 63);
}

void rules_event_derive(struct rules_event *ev)
{
	const char *flags;

	if (!rules_event_has(ev, RULES_F_EVT_TYPE) && ev->type != RULES_EVT__UNKNOWN)
		rules_event_set_str(ev, RULES_F_EVT_TYPE, evt_names[ev->type]);
	copy_if_absent(ev, RULES_F_SYSCALL_TYPE, RULES_F_EVT_TYPE);
	if (!rules_event_has(ev, RULES_F_EVT_DIR))
		rules_event_set_strn(ev, RULES_F_EVT_DIR, "<", 1);
	if (!rules_event_has(ev, RULES_F_EVT_SOURCE))
		rules_event_set_strn(ev, RULES_F_EVT_SOURCE, "syscall", 7);
	if (!rules_event_has(ev, RULES_F_EVT_RAWTIME) && ev->ts_ns)
		rules_event_set_num(ev, RULES_F_EVT_RAWTIME, (int64_t)ev->ts_ns);
	if (rules_event_has(ev, RULES_F_EVT_RAWRES) && !rules_event_has(ev, RULES_F_EVT_FAILED))
		rules_event_set_num(ev, RULES_F_EVT_FAILED, ev->v[RULES_F_EVT_RAWRES].n < 0);
	if (rules_event_has(ev, RULES_F_EVT_RAWRES) && !rules_event_has(ev, RULES_F_EVT_RES) &&
	    ev->v[RULES_F_EVT_RAWRES].n >= 0)
		rules_event_set_strn(ev, RULES_F_EVT_RES, "SUCCESS", 7);
	derive_path(ev);
	if (ev->nanc > 0) {
		if (!rules_event_has(ev, RULES_F_PROC_PNAME))
			rules_event_set_str(ev, RULES_F_PROC_PNAME, ev->anc_name[0]);
		if (!rules_event_has(ev, RULES_F_PROC_PEXE))
			rules_event_set_str(ev, RULES_F_PROC_PEXE, ev->anc_exe[0]);
		if (!rules_event_has(ev, RULES_F_PROC_PEXEPATH))
			rules_event_set_str(ev, RULES_F_PROC_PEXEPATH, ev->anc_exepath[0]);
	}
	flags = rules_event_arg(ev, "flags");
	if (flags && (ev->type == RULES_EVT_open || ev->type == RULES_EVT_openat ||
		      ev->type == RULES_EVT_openat2 || ev->type == RULES_EVT_creat ||
		      ev->type == RULES_EVT_open_by_handle_at)) {
		bool rd = flag_has(flags, "O_RDONLY") || flag_has(flags, "O_RDWR");
		bool wr = flag_has(flags, "O_WRONLY") || flag_has(flags, "O_RDWR") ||
			  ev->type == RULES_EVT_creat;

		if (!rules_event_has(ev, RULES_F_EVT_IS_OPEN_READ))
			rules_event_set_num(ev, RULES_F_EVT_IS_OPEN_READ, rd);
		if (!rules_event_has(ev, RULES_F_EVT_IS_OPEN_WRITE))
			rules_event_set_num(ev, RULES_F_EVT_IS_OPEN_WRITE, wr);
		if (!rules_event_has(ev, RULES_F_EVT_IS_OPEN_EXEC))
			rules_event_set_num(ev, RULES_F_EVT_IS_OPEN_EXEC,
					    flag_has(flags, "O_EXEC"));
		if (!rules_event_has(ev, RULES_F_EVT_IS_OPEN_CREATE))
			rules_event_set_num(ev, RULES_F_EVT_IS_OPEN_CREATE,
					    flag_has(flags, "O_CREAT") ||
						flag_has(flags, "FD_UPPER_LAYER_CREATE"));
	}
	/* ip / port / net: "either end" fields default to the server side, as the evaluator also
	 * tries the client side for fd.ip, fd.net and fd.port. */
	copy_if_absent(ev, RULES_F_FD_NET, RULES_F_FD_SIP);
	copy_if_absent(ev, RULES_F_FD_IP, RULES_F_FD_SIP);
	copy_if_absent(ev, RULES_F_FD_PORT, RULES_F_FD_SPORT);
	copy_if_absent(ev, RULES_F_FD_SNET, RULES_F_FD_SIP);
	copy_if_absent(ev, RULES_F_FD_CNET, RULES_F_FD_CIP);
	copy_if_absent(ev, RULES_F_FD_LNET, RULES_F_FD_LIP);
	copy_if_absent(ev, RULES_F_FD_RNET, RULES_F_FD_RIP);
	copy_if_absent(ev, RULES_F_FS_PATH_NAME, RULES_F_FD_NAME);
}

enum rules_evt_type rules_evttype_from_name(const char *name)
{
	if (!name)
		return RULES_EVT__UNKNOWN;
	for (unsigned i = 1; i < RULES_EVT__COUNT; i++)
		if (strcmp(evt_names[i], name) == 0)
			return (enum rules_evt_type)i;
	return RULES_EVT__UNKNOWN;
}

const char *rules_evttype_name(unsigned type)
{
	return type < RULES_EVT__COUNT ? evt_names[type] : "unknown";
}

/* Field ids sorted by name, built once (trace replay looks up every key of every line). */
static uint16_t by_name[RULES_F__COUNT];
static pthread_once_t by_name_once = PTHREAD_ONCE_INIT;

static int cmp_field_ids(const void *a, const void *b)
{
	return strcmp(field_names[*(const uint16_t *)a], field_names[*(const uint16_t *)b]);
}

static void by_name_init(void)
{
	for (unsigned i = 0; i < RULES_F__COUNT; i++)
		by_name[i] = (uint16_t)i;
	qsort(by_name, RULES_F__COUNT, sizeof(by_name[0]), cmp_field_ids);
}

int rules_field_from_name(const char *name)
{
	size_t lo = 0, hi = RULES_F__COUNT;

	if (!name)
		return -1;
	pthread_once(&by_name_once, by_name_init);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, field_names[by_name[mid]]);

		if (c == 0)
			return by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

const char *rules_field_name(unsigned f)
{
	return f < RULES_F__COUNT ? field_names[f] : NULL;
}
