/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_testsrv: a scripted HTTP/1.1 server for the kube client and watch tests (header-only,
 * tests include it). It listens on 127.0.0.1 on an ephemeral port; each connection reads one
 * request, picks the first unused step whose `match` is a substring of the request line
 * ("GET /api/v1/pods?watch=1...") and plays it: status + headers, body pieces with delays
 * (chunked encoding when `stream`), then an optional silent hold before closing.
 * Every request is recorded (line, body, arrival time) for assertions.
 */
#ifndef VIGIL_UNIT_KUBE_TESTSRV_H
#define VIGIL_UNIT_KUBE_TESTSRV_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TS_FN static __attribute__((unused))
#define TS_MAX_CHUNKS 8
#define TS_MAX_STEPS 32
#define TS_MAX_REQS 64
#define TS_MAX_CONNS 128

struct ts_step {
	const char *match;   /* substring of the request line; NULL matches anything */
	int status;	     /* 0: close the connection without answering */
	const char *headers; /* extra header lines, each ending with \r\n */
	const char *chunks[TS_MAX_CHUNKS]; /* body pieces, NULL-terminated */
	int delay_ms[TS_MAX_CHUNKS];	   /* wait before each piece */
	int hold_ms; /* silent after the body, then close (early if peer closes) */
	bool stream; /* Transfer-Encoding: chunked, else Content-Length */
	bool repeat; /* never used up */
};

struct ts_req {
	char line[1024];
	char head[4096]; /* the whole request head, headers included */
	char body[4096];
	long long t_ms;
};

struct ts_server {
	int fd;
	int port;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	struct ts_step steps[TS_MAX_STEPS];
	bool used[TS_MAX_STEPS];
	int n_steps;
	struct ts_req reqs[TS_MAX_REQS];
	int n_reqs;
	int unmatched;
	pthread_t conns[TS_MAX_CONNS];
	int n_conns;
};

struct ts_conn {
	struct ts_server *s;
	int fd;
};

TS_FN long long ts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to ms; returns early (true) when the server stops or the peer closed. */
TS_FN bool ts_wait(struct ts_server *s, int fd, int ms)
{
	long long end = ts_now_ms() + ms;

	while (!atomic_load(&s->stop)) {
		long long left = end - ts_now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char tmp[256];

		if (left <= 0)
			return false;
		if (poll(&p, 1, left > 50 ? 50 : (int)left) > 0) {
			if (recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT) == 0)
				return true; /* peer closed */
		}
	}
	return true;
}

TS_FN int ts_send(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one request (head + Content-Length body). Returns 0 or -1. */
TS_FN int ts_read_req(struct ts_server *s, int fd, struct ts_req *r)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL, *cl;
	long body_len = 0;

	memset(r, 0, sizeof(*r));
	while (!end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (atomic_load(&s->stop) || len >= sizeof(buf) - 1)
			return -1;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	r->t_ms = ts_now_ms();
	snprintf(r->line, sizeof(r->line), "%.*s", (int)strcspn(buf, "\r"), buf);
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(end + 2 - buf), buf);
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		body_len = strtol(cl + 17, NULL, 10);
	end += 4;
	while ((long)(len - (size_t)(end - buf)) < body_len && len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
	}
	snprintf(r->body, sizeof(r->body), "%.*s", (int)body_len, end);
	return 0;
}

TS_FN void ts_play(struct ts_server *s, int fd, const struct ts_step *st)
{
	char head[2048];
	size_t total = 0;
	int i;

	if (!st->status)
		return;
	for (i = 0; i < TS_MAX_CHUNKS && st->chunks[i]; i++)
		total += strlen(st->chunks[i]);
	if (st->stream)
		snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			 "Transfer-Encoding: chunked\r\nConnection: close\r\n%s\r\n",
			 st->status, st->headers ? st->headers : "");
	else
		snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			 st->status, total, st->headers ? st->headers : "");
	if (ts_send(fd, head, strlen(head)))
		return;
	for (i = 0; i < TS_MAX_CHUNKS && st->chunks[i]; i++) {
		const char *c = st->chunks[i];

		if (st->delay_ms[i] && ts_wait(s, fd, st->delay_ms[i]))
			return;
		if (st->stream) {
			char sz[32];

			snprintf(sz, sizeof(sz), "%zx\r\n", strlen(c));
			if (ts_send(fd, sz, strlen(sz)) || ts_send(fd, c, strlen(c)) ||
			    ts_send(fd, "\r\n", 2))
				return;
		} else if (ts_send(fd, c, strlen(c))) {
			return;
		}
	}
	if (st->hold_ms && ts_wait(s, fd, st->hold_ms))
		return;
	if (st->stream)
		ts_send(fd, "0\r\n\r\n", 5);
}

TS_FN void *ts_conn_main(void *arg)
{
	struct ts_conn *cn = arg;
	struct ts_server *s = cn->s;
	struct ts_step st;
	struct ts_req r;
	bool found = false;
	int i;

	if (ts_read_req(s, cn->fd, &r))
		goto out;
	pthread_mutex_lock(&s->lock);
	if (s->n_reqs < TS_MAX_REQS)
		s->reqs[s->n_reqs++] = r;
	for (i = 0; i < s->n_steps; i++) {
		if (s->used[i] || (s->steps[i].match && !strstr(r.line, s->steps[i].match)))
			continue;
		st = s->steps[i];
		if (!st.repeat)
			s->used[i] = true;
		found = true;
		break;
	}
	if (!found)
		s->unmatched++;
	pthread_mutex_unlock(&s->lock);
	if (!found) {
		memset(&st, 0, sizeof(st));
		st.status = 500;
		st.chunks[0] = "{\"kind\":\"Status\",\"code\":500,\"reason\":\"NoScript\","
			       "\"message\":\"no scripted response\"}";
	}
	ts_play(s, cn->fd, &st);
out:
	close(cn->fd);
	free(cn);
	return NULL;
}

TS_FN void *ts_main(void *arg)
{
	struct ts_server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		struct ts_conn *cn;
		int one = 1, fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cn = malloc(sizeof(*cn));
		pthread_mutex_lock(&s->lock);
		if (!cn || s->n_conns >= TS_MAX_CONNS) {
			pthread_mutex_unlock(&s->lock);
			free(cn);
			close(fd);
			continue;
		}
		cn->s = s;
		cn->fd = fd;
		if (pthread_create(&s->conns[s->n_conns], NULL, ts_conn_main, cn)) {
			free(cn);
			close(fd);
		} else {
			s->n_conns++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* Adds a scripted step (copied; strings must outlive the server). Thread-safe. */
TS_FN void ts_add(struct ts_server *s, const struct ts_step *st)
{
	pthread_mutex_lock(&s->lock);
	if (s->n_steps < TS_MAX_STEPS)
		s->steps[s->n_steps++] = *st;
	pthread_mutex_unlock(&s->lock);
}

/* Starts a server; returns NULL on failure. */
TS_FN struct ts_server *ts_start(void)
{
	struct ts_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 64) ||
	    getsockname(s->fd, (struct sockaddr *)&a, &al))
		goto fail;
	s->port = ntohs(a.sin_port);
	if (pthread_create(&s->thread, NULL, ts_main, s))
		goto fail;
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

/* Stops the server, joins every thread and frees it. NULL allowed. */
TS_FN void ts_stop(struct ts_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < s->n_conns; i++)
		pthread_join(s->conns[i], NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Number of requests received so far. */
TS_FN int ts_nreqs(struct ts_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->n_reqs;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Copy of request i (zeroed if absent). */
TS_FN struct ts_req ts_req_get(struct ts_server *s, int i)
{
	struct ts_req r;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->lock);
	if (i >= 0 && i < s->n_reqs)
		r = s->reqs[i];
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Index of the first request at or after `from` whose line contains sub, or -1. */
TS_FN int ts_find(struct ts_server *s, int from, const char *sub)
{
	int found = -1;

	pthread_mutex_lock(&s->lock);
	for (int i = from < 0 ? 0 : from; i < s->n_reqs && found < 0; i++)
		if (strstr(s->reqs[i].line, sub))
			found = i;
	pthread_mutex_unlock(&s->lock);
	return found;
}

/* Polls cond(arg) every 10 ms for up to ms; returns whether it became true. */
TS_FN bool ts_until(bool (*cond)(void *), void *arg, int ms)
{
	long long end = ts_now_ms() + ms;

	while (ts_now_ms() < end) {
		if (cond(arg))
			return true;
		usleep(10000);
	}
	return cond(arg);
}

#endif
