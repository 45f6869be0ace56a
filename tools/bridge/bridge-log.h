/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Structured log events: one JSON object (or text line) per event, with
 * time, level, callSid, streamSid, call, event and the event's fields.
 * Written to stdout and handed to a subscriber (the /logs WebSocket).
 * Any thread: events are written one at a time, in one order for stdout and
 * the subscriber.
 */
#pragma once

#include <stdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "bridge-config.h"

G_BEGIN_DECLS

typedef struct _BridgeLog BridgeLog;

/* Receives every event as one JSON text (whatever the stdout format). */
typedef void (*BridgeLogSubscriber) (const gchar * json, gpointer user_data);

typedef struct
{
  const gchar *call;            /* the launcher's id of the call */
  const gchar *call_sid;
  const gchar *stream_sid;
} BridgeLogIds;

BridgeLog *bridge_log_new (BridgeLogFormat format, gboolean verbose,
    FILE * out);
void bridge_log_free (BridgeLog * log);

/* Holds the log's (recursive) lock: no event is written meanwhile. */
void bridge_log_lock (BridgeLog * log);
void bridge_log_unlock (BridgeLog * log);

/* Any occurrence of @secret in an event is replaced by "[redacted]". */
void bridge_log_add_secret (BridgeLog * log, const gchar * secret);
/* @func is called for every event, under the log's lock, on the thread
 * that emits it. Set before other threads log, or under the lock. */
void bridge_log_set_subscriber (BridgeLog * log, BridgeLogSubscriber func,
    gpointer user_data);

/* @level: "debug", "info", "warning" or "error"; @ids and @fields may be
 * NULL; takes @fields. */
void bridge_log_emit (BridgeLog * log, const gchar * level,
    const BridgeLogIds * ids, const gchar * event, JsonObject * fields);

/* Same, fields as NULL-terminated name, GType, value triplets like
 * gst_structure_new (strings, ints, doubles, booleans). */
void bridge_log_emitv (BridgeLog * log, const gchar * level,
    const BridgeLogIds * ids, const gchar * event,
    const gchar * first_field, ...) G_GNUC_NULL_TERMINATED;

/* Whether events at @level are written (debug only with --verbose): lets
 * callers skip building fields nobody reads. */
gboolean bridge_log_enabled (BridgeLog * log, const gchar * level);

/* The level a call's bus message is logged at: errors, warnings, the
 * pipeline's state changes, EOS and twilio-* / realtime-* element messages
 * (but twilio-mark, one per mark echo) are milestones; the rest is debug. */
const gchar *bridge_message_log_level (GstMessage * msg);

/* Builds the event object (exposed for tests). */
JsonObject *bridge_log_build_event (const gchar * level,
    const BridgeLogIds * ids, const gchar * event, JsonObject * fields);

/* Converts the fields of a structure: strings, numbers, booleans, string
 * arrays, nested structures; anything else as its serialised string. */
JsonObject *bridge_structure_to_json (const GstStructure * s);

G_END_DECLS
