/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher's HTTP and WebSocket endpoints on one SoupServer:
 * /twiml, /call, /health, /metrics, /logs. Main thread only.
 */
#pragma once

#include "bridge-app.h"

G_BEGIN_DECLS

/* Creates app->server, listens, sets app->port. */
gboolean bridge_server_start (BridgeApp * app, GError ** error);

/* Closes the /logs clients and stops listening. */
void bridge_server_stop (BridgeApp * app);

G_END_DECLS
