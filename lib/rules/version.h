/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version: the Falco rules engine version Vigil's rules engine implements.
 *
 * `required_engine_version` in a rules file is compared against this. The upstream rule files we
 * load ask for 0.57.0; a file asking for a newer version fails to load.
 */
#ifndef VIGIL_LIB_RULES_VERSION_H
#define VIGIL_LIB_RULES_VERSION_H

#define RULES_ENGINE_VERSION_MAJOR 0
#define RULES_ENGINE_VERSION_MINOR 57
#define RULES_ENGINE_VERSION_PATCH 0
#define RULES_ENGINE_VERSION "0.57.0"

#endif
