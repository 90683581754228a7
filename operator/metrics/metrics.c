/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/metrics/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB (sizeof(bounds) / sizeof(bounds[0]))
#define MAX_COLLECTORS 16

struct series {
	struct series *next;
	char *labels;
	double value;	     /* counter / gauge; sum for histograms */
	unsigned long count; /* histograms */
	unsigned long buckets[NB];
};

struct family {
	struct family *next;
	char *name, *type, *help;
	struct series *series;
};

struct collector {
	void (*fn)(void *ctx, struct metrics *m);
	void *ctx;
};

struct metrics {
	pthread_mutex_t lock;
	struct family *fams, *last;
	struct collector coll[MAX_COLLECTORS];
	int ncoll;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	struct family *f, *fn;
	struct series *s, *sn;

	if (!m)
		return;
	for (f = m->fams; f; f = fn) {
		fn = f->next;
		for (s = f->series; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->type);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct family *family_get(struct metrics *m, const char *name, const char *type)
{
	struct family *f;

	for (f = m->fams; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->type = strdup(type);
	f->help = strdup("");
	if (!f->name || !f->type || !f->help) {
		free(f->name);
		free(f->type);
		free(f->help);
		free(f);
		return NULL;
	}
	if (m->last)
		m->last->next = f;
	else
		m->fams = f;
	m->last = f;
	return f;
}

int metrics_describe(struct metrics *m, const char *name, const char *type, const char *help)
{
	struct family *f;
	char *h;
	int err = 0;

	pthread_mutex_lock(&m->lock);
	f = family_get(m, name, type);
	h = strdup(help ? help : "");
	if (!f || !h) {
		free(h);
		err = -ENOMEM;
	} else {
		free(f->help);
		f->help = h;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

static struct series *series_get(struct metrics *m, const char *name, const char *type,
				 const char *labels)
{
	struct family *f = family_get(m, name, type);
	struct series *s, **pp;

	if (!f)
		return NULL;
	labels = labels ? labels : "";
	for (pp = &f->series; (s = *pp); pp = &s->next)
		if (strcmp(s->labels, labels) == 0)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->labels = strdup(labels))) {
		free(s);
		return NULL;
	}
	*pp = s;
	return s;
}

void metrics_counter_add(struct metrics *m, const char *name, const char *labels, double v)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = series_get(m, name, "counter", labels);
	if (s)
		s->value += v;
	pthread_mutex_unlock(&m->lock);
}

void metrics_gauge_set(struct metrics *m, const char *name, const char *labels, double v)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = series_get(m, name, "gauge", labels);
	if (s)
		s->value = v;
	pthread_mutex_unlock(&m->lock);
}

void metrics_observe(struct metrics *m, const char *name, const char *labels, double v)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = series_get(m, name, "histogram", labels);
	if (s) {
		s->value += v;
		s->count++;
		for (size_t i = 0; i < NB; i++)
			if (v <= bounds[i])
				s->buckets[i]++;
	}
	pthread_mutex_unlock(&m->lock);
}

double metrics_value(struct metrics *m, const char *name, const char *labels)
{
	struct family *f;
	struct series *s;
	double v = 0;

	pthread_mutex_lock(&m->lock);
	for (f = m->fams; f; f = f->next) {
		if (strcmp(f->name, name) != 0)
			continue;
		for (s = f->series; s; s = s->next)
			if (strcmp(s->labels, labels ? labels : "") == 0)
				v = strcmp(f->type, "histogram") == 0 ? (double)s->count : s->value;
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

int metrics_on_render(struct metrics *m, void (*fn)(void *ctx, struct metrics *m), void *ctx)
{
	int err = 0;

	pthread_mutex_lock(&m->lock);
	if (m->ncoll >= MAX_COLLECTORS)
		err = -ENOSPC;
	else
		m->coll[m->ncoll++] = (struct collector){fn, ctx};
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* Writes labels plus an extra one ("le"), with the braces, into buf. */
static void label_block(char *buf, size_t len, const char *labels, const char *extra)
{
	if (!labels[0] && !extra)
		buf[0] = '\0';
	else if (!extra)
		snprintf(buf, len, "{%s}", labels);
	else if (!labels[0])
		snprintf(buf, len, "{%s}", extra);
	else
		snprintf(buf, len, "{%s,%s}", labels, extra);
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct collector coll[MAX_COLLECTORS];
	int ncoll;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	char lb[512], le[32];

	pthread_mutex_lock(&m->lock);
	ncoll = m->ncoll;
	memcpy(coll, m->coll, sizeof(coll));
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < ncoll; i++)
		coll[i].fn(coll[i].ctx, m);
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	for (struct family *fa = m->fams; fa; fa = fa->next) {
		if (fa->help[0])
			fprintf(f, "# HELP %s %s\n", fa->name, fa->help);
		fprintf(f, "# TYPE %s %s\n", fa->name, fa->type);
		for (struct series *s = fa->series; s; s = s->next) {
			if (strcmp(fa->type, "histogram") != 0) {
				label_block(lb, sizeof(lb), s->labels, NULL);
				fprintf(f, "%s%s %.17g\n", fa->name, lb, s->value);
				continue;
			}
			for (size_t i = 0; i < NB; i++) {
				snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
				label_block(lb, sizeof(lb), s->labels, le);
				fprintf(f, "%s_bucket%s %lu\n", fa->name, lb, s->buckets[i]);
			}
			label_block(lb, sizeof(lb), s->labels, "le=\"+Inf\"");
			fprintf(f, "%s_bucket%s %lu\n", fa->name, lb, s->count);
			label_block(lb, sizeof(lb), s->labels, NULL);
			fprintf(f, "%s_sum%s %.17g\n", fa->name, lb, s->value);
			fprintf(f, "%s_count%s %lu\n", fa->name, lb, s->count);
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = size;
	return 0;
}

int metrics_http_handler(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	char *text;
	size_t len;
	int err = metrics_render(arg, &text, &len);

	if (err)
		return err;
	httpd_resp_take(resp, 200, "text/plain; version=0.0.4", text, len);
	return 0;
}
