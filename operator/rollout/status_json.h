/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollout/status_json: SensorFleet .status <-> struct rollout_status, and the time formats used.
 * Pure (no I/O, no clock). Field names follow crds/vigil.dev_sensorfleets.yaml.
 */
#ifndef VIGIL_OPERATOR_ROLLOUT_STATUS_JSON_H
#define VIGIL_OPERATOR_ROLLOUT_STATUS_JSON_H

#include <stdint.h>
#include <jansson.h>

#include "operator/rollout/rollout.h"

/* Parses RFC 3339 ("2026-12-03T13:00:00Z", "...00.123Z", "...00+01:00") into ms since the epoch.
 * Returns 0 or -EINVAL (NULL, empty or malformed; *ms untouched). */
int rollout_time_parse(const char *s, int64_t *ms);

/* Formats ms since the epoch as "2026-12-03T13:00:00Z" (seconds precision) into buf[32]. */
void rollout_time_format(int64_t ms, char buf[32]);

/* Fills *out from a .status object (borrowed; NULL or not an object gives a zeroed status).
 * Unknown fields are ignored; missing ones are zero/empty. */
void rollout_status_from_json(const json_t *status, struct rollout_status *out);

/* The .status object for st (borrowed): a new reference (caller decrefs), NULL on ENOMEM. Every
 * field is written (empty strings included) so a merge patch also clears old values. */
json_t *rollout_status_to_json(const struct rollout_status *st);

#endif
