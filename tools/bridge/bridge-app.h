/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher's shared state. Everything here lives on the main thread
 * (the default GMainContext): the HTTP server, every call's Twilio socket,
 * every call's bus watch, the log and the metrics.
 */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include "bridge-config.h"
#include "bridge-log.h"
#include "bridge-metrics.h"

G_BEGIN_DECLS

typedef struct _BridgeCall BridgeCall;
typedef struct _BridgeLogClient BridgeLogClient;

typedef struct
{
  BridgeConfig *config;
  BridgeLog *log;
  BridgeMetrics *metrics;
  GMainLoop *loop;
  SoupServer *server;
  GSocketService *service;      /* accepts for the server (see bridge-server.c) */
  guint port;

  /* The model endpoint the calls use (the local model's in local mode). */
  gchar *realtime_url;

  GHashTable *calls;            /* id -> BridgeCall (owned) */
  guint next_call_number;
  GPtrArray *log_clients;       /* BridgeLogClient, /logs */

  gint64 started_us;            /* monotonic */
  gboolean draining;
  guint drain_timeout_id;
  guint force_timeout_id;
} BridgeApp;

/* Called by a call when it has fully ended and been removed. */
void bridge_app_call_finished (BridgeApp * app);

G_END_DECLS
