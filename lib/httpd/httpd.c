/* SPDX-License-Identifier: Apache-2.0 */
/* httpd: accept thread + one detached thread per connection; OpenSSL for HTTPS. See httpd.h. */
#include "lib/httpd/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/util/log.h"

#define HDR_MAX 16384
#define MAX_ROUTES 32
#define MAX_CONNS 64

struct route {
	char method[8];
	char path[128];
	httpd_handler_fn fn;
	void *arg;
};

struct httpd {
	struct sockaddr_in sa;
	int fd;
	int port;
	int read_timeout_ms;
	SSL_CTX *ssl;
	pthread_mutex_t lock; /* guards ssl swap, conns, stopping */
	pthread_cond_t idle;
	int conns;
	int stopping;
	int started;
	pthread_t accept_thr;
	struct route routes[MAX_ROUTES];
	int nroutes;
};

struct conn {
	struct httpd *h;
	int fd;
	SSL *ssl;
};

static SSL_CTX *ctx_load(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_get_error();
		char buf[256];

		ERR_error_string_n(e, buf, sizeof(buf));
		vlog_error("httpd", "msg=\"cannot load certificate\" cert=%s key=%s err=\"%s\"",
			   cert, key, buf);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	char *end;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, colon - addr);
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || colon[1] == '\0')
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (host[0] == '\0' || strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

int httpd_new(const struct httpd_opts *opts, struct httpd **out)
{
	struct httpd *h;
	int err;

	if (!opts || !out || (opts->cert_file && !opts->key_file))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	err = parse_addr(opts->addr, &h->sa);
	if (err) {
		vlog_error("httpd", "msg=\"bad listen address\" addr=%s",
			   opts->addr ? opts->addr : "");
		free(h);
		return err;
	}
	h->read_timeout_ms = opts->read_timeout_ms > 0 ? opts->read_timeout_ms : 10000;
	if (opts->cert_file) {
		h->ssl = ctx_load(opts->cert_file, opts->key_file);
		if (!h->ssl) {
			free(h);
			return -EINVAL;
		}
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->idle, NULL);
	*out = h;
	return 0;
}

int httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler_fn fn,
		void *arg)
{
	struct route *r;

	if (!h || !method || !path || !fn || h->started || strlen(method) >= sizeof(r->method) ||
	    strlen(path) >= sizeof(r->path))
		return -EINVAL;
	if (h->nroutes >= MAX_ROUTES)
		return -ENOSPC;
	r = &h->routes[h->nroutes++];
	strcpy(r->method, method);
	strcpy(r->path, path);
	r->fn = fn;
	r->arg = arg;
	return 0;
}

int httpd_reload_cert(struct httpd *h, const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx, *old;

	if (!h || !h->ssl || !cert_file || !key_file)
		return -EINVAL;
	ctx = ctx_load(cert_file, key_file);
	if (!ctx)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	old = h->ssl;
	h->ssl = ctx;
	pthread_mutex_unlock(&h->lock);
	SSL_CTX_free(old); /* refcounted: live SSL objects keep their own reference */
	return 0;
}

/* ---- connection I/O ---- */

static int wait_readable(struct conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int n;

	if (c->ssl && SSL_pending(c->ssl) > 0)
		return 0;
	do
		n = poll(&p, 1, c->h->read_timeout_ms);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -ETIMEDOUT;
}

/* Reads up to len bytes; returns bytes read, 0 at EOF, negative on error/timeout. */
static ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	if (wait_readable(c))
		return -ETIMEDOUT;
	if (!c->ssl) {
		do
			n = recv(c->fd, buf, len, 0);
		while (n < 0 && errno == EINTR);
		return n < 0 ? -errno : n;
	}
	for (;;) {
		int r = SSL_read(c->ssl, buf, (int)(len > 65536 ? 65536 : len));
		int e;

		if (r > 0)
			return r;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ && !wait_readable(c))
			continue;
		return -EIO;
	}
}

static int conn_write(struct conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n;

		if (c->ssl) {
			n = SSL_write(c->ssl, buf, (int)(len > 65536 ? 65536 : len));
			if (n <= 0)
				return -EIO;
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void send_response(struct conn *c, const struct httpd_response *r)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 r->status, reason_phrase(r->status),
			 r->content_type[0] ? r->content_type : "text/plain", r->body_len);

	if (conn_write(c, hdr, (size_t)n) == 0 && r->body_len)
		conn_write(c, r->body, r->body_len);
}

static void send_simple(struct conn *c, int status, const char *text)
{
	struct httpd_response r = {.status = status, .content_type = "text/plain"};

	r.body = (char *)text;
	r.body_len = strlen(text);
	send_response(c, &r);
}

/* Finds a header value in the raw header block (case-insensitive name); copies it to out. */
static int header_get(const char *hdrs, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = strstr(hdrs, "\r\n");

	while (p && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");

		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t len;

			while (*v == ' ' || *v == '\t')
				v++;
			len = (size_t)(eol - v);
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len >= outlen)
				len = outlen - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
		p = eol;
	}
	return -ENOENT;
}

static void dispatch(struct conn *c, struct httpd_request *req)
{
	struct httpd *h = c->h;
	struct httpd_response resp = {.status = 200, .content_type = "text/plain"};
	int path_known = 0;

	for (int i = 0; i < h->nroutes; i++) {
		struct route *r = &h->routes[i];

		if (strcmp(r->path, req->path) != 0)
			continue;
		path_known = 1;
		if (strcmp(r->method, req->method) != 0 &&
		    !(strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
			continue;
		if (r->fn(req, &resp, r->arg) < 0) {
			free(resp.body);
			send_simple(c, 500, "internal error\n");
			return;
		}
		if (strcmp(req->method, "HEAD") == 0)
			resp.body_len = 0;
		send_response(c, &resp);
		free(resp.body);
		return;
	}
	if (path_known)
		send_simple(c, 405, "method not allowed\n");
	else
		send_simple(c, 404, "not found\n");
}

static void handle(struct conn *c)
{
	char *buf = malloc(HDR_MAX + 1);
	char *body = NULL;
	size_t have = 0, body_len = 0;
	char *end = NULL, *sp1, *sp2, *q;
	char cl[32], te[32], ctype[128];
	struct httpd_request req;
	ssize_t n;

	if (!buf)
		return;
	while (!end) {
		if (have >= HDR_MAX) {
			send_simple(c, 413, "headers too large\n");
			goto out;
		}
		n = conn_read(c, buf + have, HDR_MAX - have);
		if (n <= 0)
			goto out;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	end[2] = '\0'; /* keep the CRLF that ends the last header line */
	/* request line: METHOD SP target SP version */
	sp1 = strchr(buf, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2) {
		send_simple(c, 400, "bad request line\n");
		goto out;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	memset(&req, 0, sizeof(req));
	req.method = buf;
	req.path = sp1 + 1;
	q = strchr(sp1 + 1, '?');
	req.query = "";
	if (q) {
		*q = '\0';
		req.query = q + 1;
	}
	*sp2 = ' '; /* keep the header block searchable from the first CRLF */
	if (header_get(sp2, "Transfer-Encoding", te, sizeof(te)) == 0 &&
	    strcasecmp(te, "identity") != 0) {
		send_simple(c, 411, "chunked bodies not supported; send Content-Length\n");
		goto out;
	}
	if (header_get(sp2, "Content-Length", cl, sizeof(cl)) == 0) {
		char *e;
		unsigned long long v = strtoull(cl, &e, 10);

		if (*e || v > HTTPD_MAX_BODY) {
			send_simple(c, 413, "body too large\n");
			goto out;
		}
		body_len = (size_t)v;
	}
	ctype[0] = '\0';
	header_get(sp2, "Content-Type", ctype, sizeof(ctype));
	*sp2 = '\0';
	body = malloc(body_len + 1);
	if (!body)
		goto out;
	{
		char *after = end + 4;
		size_t pre = have - (size_t)(after - buf);

		if (pre > body_len)
			pre = body_len;
		memcpy(body, after, pre);
		while (pre < body_len) {
			n = conn_read(c, body + pre, body_len - pre);
			if (n <= 0)
				goto out;
			pre += (size_t)n;
		}
	}
	body[body_len] = '\0';
	req.body = body;
	req.body_len = body_len;
	req.content_type = ctype;
	dispatch(c, &req);
out:
	free(body);
	free(buf);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct httpd *h = c->h;
	struct timeval tv = {.tv_sec = h->read_timeout_ms / 1000,
			     .tv_usec = (h->read_timeout_ms % 1000) * 1000};

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (c->ssl) {
		SSL_set_fd(c->ssl, c->fd);
		for (;;) {
			int r = SSL_accept(c->ssl);

			if (r == 1) {
				handle(c);
				break;
			}
			if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ && !wait_readable(c))
				continue;
			vlog_debug("httpd", "msg=\"tls handshake failed\"");
			ERR_clear_error();
			break;
		}
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	} else {
		handle(c);
	}
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&h->lock);
	if (--h->conns == 0)
		pthread_cond_broadcast(&h->idle);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct httpd *h = arg;

	for (;;) {
		struct pollfd p = {.fd = h->fd, .events = POLLIN};
		struct conn *c;
		pthread_attr_t attr;
		pthread_t t;
		int fd, stop;

		if (poll(&p, 1, 200) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&h->lock);
		stop = h->stopping;
		pthread_mutex_unlock(&h->lock);
		if (stop)
			break;
		if (!(p.revents & POLLIN))
			continue;
		fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->h = h;
		c->fd = fd;
		pthread_mutex_lock(&h->lock);
		if (h->conns >= MAX_CONNS) {
			pthread_mutex_unlock(&h->lock);
			close(fd);
			free(c);
			continue;
		}
		if (h->ssl)
			c->ssl = SSL_new(h->ssl);
		h->conns++;
		pthread_mutex_unlock(&h->lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_main, c) != 0) {
			SSL_free(c->ssl);
			close(fd);
			free(c);
			pthread_mutex_lock(&h->lock);
			h->conns--;
			pthread_mutex_unlock(&h->lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int httpd_start(struct httpd *h)
{
	struct sockaddr_in bound;
	socklen_t blen = sizeof(bound);
	int one = 1, err;

	if (!h || h->started)
		return -EINVAL;
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -errno;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&h->sa, sizeof(h->sa)) < 0 || listen(h->fd, 64) < 0) {
		err = -errno;
		vlog_error("httpd", "msg=\"cannot listen\" port=%d err=\"%s\"",
			   ntohs(h->sa.sin_port), strerror(-err));
		close(h->fd);
		h->fd = -1;
		return err;
	}
	getsockname(h->fd, (struct sockaddr *)&bound, &blen);
	h->port = ntohs(bound.sin_port);
	err = -pthread_create(&h->accept_thr, NULL, accept_main, h);
	if (err) {
		close(h->fd);
		h->fd = -1;
		return err;
	}
	h->started = 1;
	vlog_debug("httpd", "msg=listening port=%d tls=%d", h->port, h->ssl != NULL);
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h || !h->started)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->accept_thr, NULL);
	close(h->fd);
	h->fd = -1;
	pthread_mutex_lock(&h->lock);
	while (h->conns > 0)
		pthread_cond_wait(&h->idle, &h->lock);
	pthread_mutex_unlock(&h->lock);
	h->started = 0;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	httpd_stop(h);
	SSL_CTX_free(h->ssl);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->idle);
	free(h);
}

int httpd_resp_set(struct httpd_response *resp, int status, const char *content_type,
		   const char *body, size_t len)
{
	char *copy = NULL;

	if (body) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, body, len);
		copy[len] = '\0';
	}
	httpd_resp_take(resp, status, content_type, copy, body ? len : 0);
	return 0;
}

void httpd_resp_take(struct httpd_response *resp, int status, const char *content_type, char *body,
		     size_t len)
{
	free(resp->body);
	resp->status = status;
	if (content_type)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", content_type);
	resp->body = body;
	resp->body_len = len;
}
