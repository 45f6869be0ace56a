/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The /logs WebSocket clients: every log event goes to each of them as one
 * text message. The clients live on the main thread; events from the call
 * loops reach them in batches. bridge-server.c routes /logs (and checks the
 * bearer token) and hands each upgraded connection here.
 */
#pragma once

#include "bridge-app.h"

G_BEGIN_DECLS

/* Main thread: sets up the client list and subscribes to app->log. */
void bridge_log_clients_start (BridgeApp * app);

/* Main thread: TRUE while another client may connect (at most 32 at a
 * time; the server refuses more). */
gboolean bridge_log_clients_accepting (BridgeApp * app);

/* Main thread: an upgraded /logs WebSocket from @remote (an address, for
 * the log events) starts receiving events. */
void bridge_log_clients_add (BridgeApp * app, SoupWebsocketConnection * conn,
    const gchar * remote);

/* Main thread: unsubscribes, closes every client, frees the list. */
void bridge_log_clients_stop (BridgeApp * app);

G_END_DECLS
