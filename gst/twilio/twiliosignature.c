/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * X-Twilio-Signature; see twiliosignature.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>

#include "twiliosignature.h"

static gint
compare_params (gconstpointer a, gconstpointer b)
{
  const TwilioParam *pa = a, *pb = b;
  gint r = strcmp (pa->name, pb->name);

  return r ? r : strcmp (pa->value, pb->value);
}

gchar *
twilio_signature_compute (const gchar * auth_token, const gchar * url,
    const TwilioParam * params, gsize n_params)
{
  g_autoptr (GHmac) hmac = NULL;
  TwilioParam *sorted;
  guint8 digest[20];
  gsize digest_len = sizeof (digest);
  gsize i;

  g_return_val_if_fail (auth_token != NULL, NULL);
  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (params != NULL || n_params == 0, NULL);

  hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) auth_token,
      strlen (auth_token));
  g_hmac_update (hmac, (const guchar *) url, -1);

  /* Byte-wise order of names (then values); an identical repeated pair
   * counts once, as in Twilio's SDKs. */
  sorted = g_new (TwilioParam, MAX (n_params, 1));
  for (i = 0; i < n_params; i++) {
    sorted[i].name = params[i].name ? params[i].name : "";
    sorted[i].value = params[i].value ? params[i].value : "";
  }
  qsort (sorted, n_params, sizeof (TwilioParam), compare_params);
  for (i = 0; i < n_params; i++) {
    if (i > 0 && compare_params (&sorted[i - 1], &sorted[i]) == 0)
      continue;
    g_hmac_update (hmac, (const guchar *) sorted[i].name, -1);
    g_hmac_update (hmac, (const guchar *) sorted[i].value, -1);
  }
  g_free (sorted);

  g_hmac_get_digest (hmac, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

static TwilioParam *
params_from_form (GHashTable * form, gsize * n_params)
{
  GHashTableIter iter;
  gpointer key, value;
  TwilioParam *params;
  gsize n = 0;

  *n_params = form ? g_hash_table_size (form) : 0;
  params = g_new0 (TwilioParam, MAX (*n_params, 1));
  if (form) {
    g_hash_table_iter_init (&iter, form);
    while (g_hash_table_iter_next (&iter, &key, &value)) {
      params[n].name = key;
      params[n].value = value;
      n++;
    }
  }
  return params;
}

gchar *
twilio_signature_compute_form (const gchar * auth_token, const gchar * url,
    GHashTable * form)
{
  gsize n;
  TwilioParam *params = params_from_form (form, &n);
  gchar *signature = twilio_signature_compute (auth_token, url, params, n);

  g_free (params);
  return signature;
}

/* Splits @url into scheme "://", host[:port] (userinfo dropped) and the rest
 * (path, query, fragment). Returns FALSE when @url has no scheme. */
static gboolean
split_url (const gchar * url, gchar ** scheme, gchar ** host, gchar ** port,
    gchar ** rest)
{
  const gchar *sep = strstr (url, "://");
  const gchar *authority, *end, *at, *host_start, *colon;

  if (sep == NULL || sep == url)
    return FALSE;
  authority = sep + 3;
  end = authority + strcspn (authority, "/?#");
  host_start = authority;
  for (at = authority; at < end; at++) {
    if (*at == '@')
      host_start = at + 1;
  }

  /* A port is ":digits" at the end of the authority (after any ']'). */
  colon = NULL;
  for (at = end; at > host_start; at--) {
    if (at[-1] == ':') {
      colon = at - 1;
      break;
    }
    if (!g_ascii_isdigit (at[-1]))
      break;
  }

  *scheme = g_ascii_strdown (url, sep - url);
  if (colon) {
    *host = g_strndup (host_start, colon - host_start);
    *port = g_strndup (colon + 1, end - colon - 1);
  } else {
    *host = g_strndup (host_start, end - host_start);
    *port = NULL;
  }
  *rest = g_strdup (end);
  return TRUE;
}

static const gchar *
default_port (const gchar * scheme)
{
  if (g_str_equal (scheme, "https") || g_str_equal (scheme, "wss"))
    return "443";
  if (g_str_equal (scheme, "http") || g_str_equal (scheme, "ws"))
    return "80";
  return NULL;
}

static gchar *
toggle_trailing_slash (const gchar * url)
{
  const gchar *sep = strstr (url, "://");
  const gchar *path = sep ? sep + 3 + strcspn (sep + 3, "/?#") : url;
  gsize path_end = (path - url) + strcspn (path, "?#");

  if (path_end > 0 && url[path_end - 1] == '/' && &url[path_end - 1] >= path)
    return g_strdup_printf ("%.*s%s", (gint) (path_end - 1), url,
        url + path_end);
  return g_strdup_printf ("%.*s/%s", (gint) path_end, url, url + path_end);
}

static void
add_candidate (GPtrArray * candidates, gchar * url)
{
  guint i;

  for (i = 0; i < candidates->len; i++) {
    if (g_str_equal (g_ptr_array_index (candidates, i), url)) {
      g_free (url);
      return;
    }
  }
  g_ptr_array_add (candidates, url);
}

GPtrArray *
twilio_signature_url_candidates (const gchar * url)
{
  GPtrArray *candidates = g_ptr_array_new_with_free_func (g_free);
  gchar *scheme = NULL, *host = NULL, *port = NULL, *rest = NULL;
  guint i, n_base;

  g_return_val_if_fail (url != NULL, candidates);

  if (split_url (url, &scheme, &host, &port, &rest)) {
    const gchar *def = default_port (scheme);

    add_candidate (candidates, g_strdup_printf ("%s://%s%s%s%s", scheme, host,
            port ? ":" : "", port ? port : "", rest));
    add_candidate (candidates, g_strdup_printf ("%s://%s%s", scheme, host,
            rest));
    if (def)
      add_candidate (candidates, g_strdup_printf ("%s://%s:%s%s", scheme,
              host, def, rest));
  } else {
    add_candidate (candidates, g_strdup (url));
  }
  n_base = candidates->len;
  for (i = 0; i < n_base; i++)
    add_candidate (candidates,
        toggle_trailing_slash (g_ptr_array_index (candidates, i)));

  g_free (scheme);
  g_free (host);
  g_free (port);
  g_free (rest);
  return candidates;
}

static gboolean
constant_time_equal (const gchar * a, const gchar * b)
{
  gsize len = strlen (a), i;
  guint8 diff = 0;

  if (len != strlen (b))
    return FALSE;
  for (i = 0; i < len; i++)
    diff |= (guint8) a[i] ^ (guint8) b[i];
  return diff == 0;
}

gboolean
twilio_signature_validate (const gchar * auth_token, const gchar * signature,
    const gchar * url, const TwilioParam * params, gsize n_params)
{
  g_autoptr (GPtrArray) candidates = NULL;
  gboolean valid = FALSE;
  guint i;

  if (auth_token == NULL || *auth_token == '\0' || signature == NULL
      || *signature == '\0' || url == NULL)
    return FALSE;

  candidates = twilio_signature_url_candidates (url);
  for (i = 0; i < candidates->len; i++) {
    gchar *expected = twilio_signature_compute (auth_token,
        g_ptr_array_index (candidates, i), params, n_params);

    /* Check every candidate so the time taken does not tell which matched. */
    valid |= constant_time_equal (expected, signature);
    g_free (expected);
  }
  return valid;
}

gboolean
twilio_signature_validate_form (const gchar * auth_token,
    const gchar * signature, const gchar * url, GHashTable * form)
{
  gsize n;
  TwilioParam *params = params_from_form (form, &n);
  gboolean valid =
      twilio_signature_validate (auth_token, signature, url, params, n);

  g_free (params);
  return valid;
}

gchar *
twilio_body_sha256 (const gchar * body, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      (const guchar *) (body ? body : ""), body ? len : 0);
}

/* The value of query parameter @name in @url, or NULL. */
static gchar *
query_value (const gchar * url, const gchar * name)
{
  const gchar *query = strchr (url, '?');
  gsize name_len = strlen (name);
  gchar **pairs;
  gchar *value = NULL;
  guint i;

  if (query == NULL)
    return NULL;
  pairs = g_strsplit_set (query + 1, "&#", -1);
  for (i = 0; pairs[i] && value == NULL; i++) {
    if (strncmp (pairs[i], name, name_len) == 0 && pairs[i][name_len] == '=')
      value = g_strdup (pairs[i] + name_len + 1);
  }
  g_strfreev (pairs);
  return value;
}

gboolean
twilio_signature_validate_with_body (const gchar * auth_token,
    const gchar * signature, const gchar * url, const gchar * body, gsize len)
{
  g_autofree gchar *expected_hash = NULL;
  g_autofree gchar *hash = NULL;

  if (url == NULL)
    return FALSE;
  expected_hash = query_value (url, "bodySHA256");
  if (expected_hash == NULL)
    return FALSE;
  hash = twilio_body_sha256 (body, len);
  if (g_ascii_strcasecmp (hash, expected_hash) != 0)
    return FALSE;
  return twilio_signature_validate (auth_token, signature, url, NULL, 0);
}
