/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook/admission: admission.k8s.io/v1 AdmissionReview decoding and encoding (pure, no I/O).
 */
#ifndef VIGIL_OPERATOR_WEBHOOK_ADMISSION_H
#define VIGIL_OPERATOR_WEBHOOK_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* The parts of request we use. Strings are copied in; objects are borrowed from the review. */
struct admission_req {
	char uid[128];
	char operation[16]; /* CREATE, UPDATE, DELETE, CONNECT */
	char group[64];
	char kind[64];
	char ns[64];
	char name[254];
	json_t *object;	    /* request.object (NULL for DELETE) */
	json_t *old_object; /* request.oldObject or NULL */
};

/*
 * Parses an AdmissionReview (body: len bytes). On success *review is new (caller decrefs; req's
 * objects live as long as it). Returns 0, -EPROTO (not JSON / not an AdmissionReview v1 with a
 * request.uid) or -ENOMEM; msg (msglen bytes) then says why.
 */
int admission_decode(const char *body, size_t len, json_t **review, struct admission_req *req,
		     char *msg, size_t msglen);

/*
 * Builds the AdmissionReview response (new reference, caller decrefs):
 * {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":..,
 *  "allowed":..,"status":{"code":..,"reason":..,"message":..}}}. status is left out when allowed
 * and message is NULL. Strings borrowed.
 */
json_t *admission_response(const char *uid, bool allowed, int code, const char *reason,
			   const char *message);

#endif
