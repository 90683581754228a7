// SPDX-License-Identifier: Apache-2.0
#include "sensor/rules/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/rules/rules.h"
#include "lib/util/log.h"

struct reloader {
	char **paths;
	size_t n;
	int debounce_ms;
	reload_fn fn;
	void *ctx;
	int ifd;
	struct rules_set *active;
	char message[1024];
	long long due_ms; /* monotonic ms of the pending reload, 0 when none */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void watch_path(struct reloader *r, const char *path)
{
	struct stat st;
	char dir[PATH_MAX];
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
			      IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
	} else {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	}
	if (inotify_add_watch(r->ifd, dir, mask) < 0)
		vlog_warn("rules", "dir=%s msg=\"cannot watch for changes\" err=%d", dir, errno);
}

/* Loads the set; swaps on success. */
void reload_now(struct reloader *r)
{
	struct reload_result res = {0};
	struct rules_diags *diags = NULL;
	struct rules_set *rs = NULL;
	char **files = NULL;
	size_t nfiles = 0, i;
	int err;

	r->message[0] = '\0';
	err = rules_paths_expand((const char *const *)r->paths, r->n, &files, &nfiles);
	if (err) {
		snprintf(r->message, sizeof(r->message), "cannot read rules paths: %s",
			 strerror(-err));
	} else {
		err = rules_load_files((const char *const *)files, nfiles, &rs, &diags);
		res.errors = rules_diags_errors(diags);
		res.warnings = rules_diags_warnings(diags);
		if (!err && rs && nfiles == 0) {
			/* nothing to load is not a rule set */
			rules_set_free(rs);
			rs = NULL;
			err = -ENOENT;
			snprintf(r->message, sizeof(r->message), "no rules files found");
		} else if (err || !rs) {
			for (i = 0; i < rules_diags_count(diags); i++) {
				const struct rules_diag *dg = rules_diags_get(diags, i);

				if (dg->severity != RULES_SEV_ERROR)
					continue;
				snprintf(r->message, sizeof(r->message), "%s:%d:%d: %s",
					 dg->file ? dg->file : "?", dg->line, dg->col, dg->message);
				break;
			}
			if (!r->message[0])
				snprintf(r->message, sizeof(r->message), "rules load failed: %s",
					 strerror(err < 0 ? -err : EINVAL));
		}
	}
	if (!err && rs) {
		if (r->active && !strcmp(rules_set_hash(r->active), rules_set_hash(rs))) {
			rules_set_free(rs); /* same content: keep the current set */
		} else {
			rules_set_free(r->active);
			r->active = rs;
			res.changed = true;
		}
		res.ok = true;
	} else {
		rules_set_free(rs);
	}
	res.message = r->message;
	res.hash = r->active ? rules_set_hash(r->active) : NULL;
	res.rule_count = r->active ? rules_set_count(r->active) : 0;
	if (res.ok)
		vlog_info("rules",
			  "msg=\"rules loaded\" files=%zu rules=%zu hash=%.12s changed=%d "
			  "warnings=%zu",
			  nfiles, res.rule_count, res.hash, res.changed, res.warnings);
	else
		vlog_error("rules",
			   "msg=\"rules load failed, keeping the last good set\" error=\"%s\" "
			   "active=%.12s",
			   r->message, res.hash ? res.hash : "none");
	rules_diags_free(diags);
	rules_paths_free(files);
	if (r->fn)
		r->fn(r->ctx, &res);
}

int reload_new(const char *const *paths, size_t n, int debounce_ms, reload_fn fn, void *ctx,
	       struct reloader **out)
{
	struct reloader *r = calloc(1, sizeof(*r));
	size_t i;

	if (!r)
		return -ENOMEM;
	r->ifd = -1;
	r->paths = calloc(n + 1, sizeof(*r->paths));
	if (!r->paths) {
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		r->paths[i] = strdup(paths[i]);
		if (!r->paths[i]) {
			r->n = i;
			reload_free(r);
			return -ENOMEM;
		}
	}
	r->n = n;
	r->debounce_ms = debounce_ms > 0 ? debounce_ms : 500;
	r->fn = fn;
	r->ctx = ctx;
	r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ifd < 0) {
		int err = -errno;

		reload_free(r);
		return err;
	}
	for (i = 0; i < n; i++)
		watch_path(r, paths[i]);
	reload_now(r);
	*out = r;
	return 0;
}

struct rules_set *reload_active(struct reloader *r)
{
	return r ? r->active : NULL;
}

int reload_fd(struct reloader *r)
{
	return r ? r->ifd : -1;
}

int reload_poll(struct reloader *r)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool seen = false;
	long long now;
	ssize_t n;

	if (!r)
		return -1;
	while ((n = read(r->ifd, buf, sizeof(buf))) > 0)
		seen = true;
	now = now_ms();
	if (seen) {
		r->due_ms = now + r->debounce_ms; /* restart the quiet period */
		/* a replaced directory (ConfigMap remount) needs its watch again */
		for (size_t i = 0; i < r->n; i++)
			watch_path(r, r->paths[i]);
	}
	if (!r->due_ms)
		return -1;
	if (now < r->due_ms)
		return (int)(r->due_ms - now);
	r->due_ms = 0;
	reload_now(r);
	return -1;
}

void reload_free(struct reloader *r)
{
	size_t i;

	if (!r)
		return;
	if (r->ifd >= 0)
		close(r->ifd);
	rules_set_free(r->active);
	for (i = 0; r->paths && i < r->n; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r);
}
