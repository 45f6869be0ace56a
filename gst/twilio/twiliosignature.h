/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * X-Twilio-Signature: how Twilio signs its requests (webhooks and the
 * Media Streams WebSocket upgrade) with the account's auth token. Pure:
 * GLib only, no I/O. Part of the twilioprotocol static library.
 */
#ifndef __TWILIO_SIGNATURE_H__
#define __TWILIO_SIGNATURE_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const gchar *name;
  const gchar *value;
} TwilioParam;

/* base64 (HMAC-SHA1 (auth_token, url + params sorted by name then value,
 * duplicates dropped, each appended as name + value)). @params may be NULL
 * when @n_params is 0 (GET, WebSocket upgrade, JSON body). */
gchar *twilio_signature_compute (const gchar * auth_token, const gchar * url,
    const TwilioParam * params, gsize n_params);

/* Same with the params of a form (e.g. from soup_form_decode ()): names to
 * values, both strings. @form may be NULL. */
gchar *twilio_signature_compute_form (const gchar * auth_token,
    const gchar * url, GHashTable * form);

/* Validates @signature (constant-time compare) against the URL variants
 * Twilio and its SDKs produce: as given (with userinfo removed), with the
 * port removed, with the scheme's default port added (443 for https/wss,
 * 80 for http/ws) and, for each, with the trailing '/' of the path toggled
 * (Twilio's advice for WebSocket handshakes). Returns FALSE for a NULL or
 * empty signature or token. */
gboolean twilio_signature_validate (const gchar * auth_token,
    const gchar * signature, const gchar * url, const TwilioParam * params,
    gsize n_params);
gboolean twilio_signature_validate_form (const gchar * auth_token,
    const gchar * signature, const gchar * url, GHashTable * form);

/* JSON-body webhooks: the URL carries bodySHA256 = hex SHA-256 of the body
 * and is signed with no params. Both must match. */
gchar *twilio_body_sha256 (const gchar * body, gsize len);
gboolean twilio_signature_validate_with_body (const gchar * auth_token,
    const gchar * signature, const gchar * url, const gchar * body,
    gsize len);

/* The URL candidates validate tries, in order, without duplicates
 * (exposed for tests and diagnostics). */
GPtrArray *twilio_signature_url_candidates (const gchar * url);

G_END_DECLS

#endif /* __TWILIO_SIGNATURE_H__ */
