/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: a small HTTP/1.1 and HTTPS server with exact-path route handlers, for health, metrics and
 * admission webhooks. Used by the operator and the sensor.
 *
 *   struct httpd *h;
 *   struct httpd_opts o = { .addr = "127.0.0.1:8080" };
 *   httpd_new(&o, &h);
 *   httpd_route(h, "GET", "/healthz", healthz_fn, NULL);
 *   httpd_start(h);            // binds and serves from its own threads
 *   ...
 *   httpd_free(h);             // stops and frees
 *
 * Invariants: every connection gets one response and is then closed ("Connection: close"); handlers
 * run on a connection thread, several at once, so they must be thread-safe. Routes are added before
 * httpd_start(). A request with no route gets 404; a known path with another method gets 405.
 * Bodies up to HTTPD_MAX_BODY bytes; headers up to 16 KiB. Plain HTTP unless a certificate is
 * given.
 */
#ifndef VIGIL_LIB_HTTPD_HTTPD_H
#define VIGIL_LIB_HTTPD_HTTPD_H

#include <stddef.h>

#define HTTPD_MAX_BODY (8u << 20)

struct httpd;

/* A request as seen by a handler; every pointer is borrowed and valid only during the call. */
struct httpd_request {
	const char *method;	  /* "GET", "POST", ... */
	const char *path;	  /* path without the query, e.g. "/validate" */
	const char *query;	  /* text after '?', "" when none */
	const char *content_type; /* "" when absent */
	const char *body;	  /* NUL-terminated, body_len bytes before the NUL */
	size_t body_len;
};

/*
 * The response a handler fills. status defaults to 200 and content_type to "text/plain"; body is
 * owned by the response (set it with httpd_resp_set/httpd_resp_take) and freed by the server.
 */
struct httpd_response {
	int status;
	char content_type[64];
	char *body;
	size_t body_len;
};

/* A route handler; returns 0, or a negative errno to make the server answer 500. */
typedef int (*httpd_handler_fn)(const struct httpd_request *req, struct httpd_response *resp,
				void *arg);

struct httpd_opts {
	const char *addr;      /* "127.0.0.1:8080" or "127.0.0.1:0" (ephemeral); borrowed */
	const char *cert_file; /* PEM certificate (chain); NULL for plain HTTP; borrowed */
	const char *key_file;  /* PEM private key; required with cert_file; borrowed */
	int read_timeout_ms;   /* per connection; 0 means 10000 */
};

/* Creates a server (not yet listening); *out is new, free with httpd_free(). -EINVAL on bad addr.
 */
int httpd_new(const struct httpd_opts *opts, struct httpd **out);

/* Adds a handler for method+path (exact match); arg is borrowed and passed back. Before start. */
int httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler_fn fn,
		void *arg);

/* Binds, listens and starts serving on a background thread. -errno on bind/TLS setup failure. */
int httpd_start(struct httpd *h);

/* The bound port (useful with port 0); 0 before start. */
int httpd_port(const struct httpd *h);

/*
 * Replaces the TLS certificate and key for new connections (certificate rotation); files borrowed.
 * Returns -EINVAL on a plain-HTTP server or unreadable files (the old pair stays in use).
 */
int httpd_reload_cert(struct httpd *h, const char *cert_file, const char *key_file);

/* Stops accepting, waits for connection threads to finish. Safe to call twice. */
void httpd_stop(struct httpd *h);

/* Stops (if needed) and frees. NULL is fine. */
void httpd_free(struct httpd *h);

/* Sets status, content type and a copy of body (len bytes; body may be NULL). 0 or -ENOMEM. */
int httpd_resp_set(struct httpd_response *resp, int status, const char *content_type,
		   const char *body, size_t len);

/* Like httpd_resp_set but takes ownership of body (malloc'd, len bytes). */
void httpd_resp_take(struct httpd_response *resp, int status, const char *content_type, char *body,
		     size_t len);

#endif
