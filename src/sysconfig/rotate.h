/* rotate.h - master-key rotation: a new key id, every sealed secret re-sealed in batches, resumable.
 *
 * What is sealed under the master keyring (security.master_key_file):
 * encrypted system_config values (svc.h) and the channels' app secret and
 * page access token (messenger/channel.h).  Rotation:
 *
 *   1. adds a new random key to the key file and makes it current
 *      (keyring_file_rotate: atomic rename, old keys stay for reading) and
 *      records the rotation in key_rotations (0014) — unless an earlier run
 *      was interrupted: then that rotation is resumed, no key is added;
 *   2. waits security.rotation_grace_ms (2 s) so running processes, which
 *      check the key file at most every config.cache_check_ms, seal new
 *      values under the new key before the sweep starts;
 *   3. tenant by tenant, re-seals rows whose envelope names another key id,
 *      batch_size rows per transaction (bound to the tenant, so row-level
 *      security applies; app.key_rotation = 'on' keeps version/updated_at),
 *      the progress counters updated in the same transaction.  A row
 *      already under the new key is skipped, so any run may stop anywhere
 *      (crash, --max-batches) and the next one continues where it matters;
 *   4. marks the rotation finished when a whole pass left nothing behind.
 *
 * No downtime: old keys stay in the file, so every value opens before,
 * during and after the sweep.  A value that does not open under any key is
 * counted as unreadable, audited, and left alone.
 */
#ifndef GACP_SYSCONFIG_ROTATE_H
#define GACP_SYSCONFIG_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "security/keyring.h"

struct svc;

#define SYSCFG_ROTATION_POLICY_DAYS 90

struct syscfg_rotate_opts {
	int      batch_size;     /* rows per transaction (1..10000) */
	long     max_batches;    /* stop after this many (0: no limit) */
	int64_t  grace_ms;       /* wait after adding a key */
};

struct syscfg_rotate_result {
	char      kid[KEYRING_KID_MAX + 1];
	bool      new_key;       /* this run added the key */
	bool      finished;      /* nothing left under older keys */
	long long batches;       /* this run */
	long long resealed;      /* rows, this run */
	long long unreadable;    /* rows, this run */
};

struct syscfg_key_status {
	char      active_kid[KEYRING_KID_MAX + 1];
	int64_t   active_created_s;   /* 0: unknown */
	int64_t   age_days;           /* -1: unknown */
	int       policy_days;
	bool      overdue;
	int       nkeys;
	long long pending_config;     /* rows under older keys */
	long long pending_channels;
	bool      in_progress;
	char      rotation_kid[KEYRING_KID_MAX + 1];  /* latest rotation, "" */
	char      rotation_started[40];
	char      rotation_finished[40];              /* "" while running */
	long long rotation_batches;
	long long rotation_resealed;
	long long rotation_unreadable;
};

/* Prototypes */

/* Run (or resume) a rotation as s's principal (gacpctl: system).  One at
 * a time (PostgreSQL advisory lock).  Errors: key file problems
 * (keyring.h), db errors, GACP_ECONFLICT "rotation_running". */
int syscfg_rotate(struct svc *s, const struct syscfg_rotate_opts *opts,
        struct syscfg_rotate_result *out, struct gacp_err *err);
/* What `gacpctl rotate-key --status` reports. */
int syscfg_rotation_status(struct svc *s, struct syscfg_key_status *out,
        struct gacp_err *err);

#endif
