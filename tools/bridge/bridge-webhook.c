/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TwiML answers and X-Twilio-Signature for the launcher. Pure: no I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-webhook.h"

#include <string.h>

gchar *
bridge_xml_escape (const gchar * text)
{
  GString *out = g_string_sized_new (strlen (text) + 16);
  const gchar *p;

  for (p = text; *p; p++) {
    switch (*p) {
      case '&':
        g_string_append (out, "&amp;");
        break;
      case '<':
        g_string_append (out, "&lt;");
        break;
      case '>':
        g_string_append (out, "&gt;");
        break;
      case '"':
        g_string_append (out, "&quot;");
        break;
      case '\'':
        g_string_append (out, "&apos;");
        break;
      default:
        /* XML 1.0 forbids most control characters even escaped. */
        if ((guchar) * p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
          g_string_append_c (out, ' ');
        else
          g_string_append_c (out, *p);
        break;
    }
  }
  return g_string_free (out, FALSE);
}

gchar *
bridge_twiml_connect_stream (const gchar * stream_url,
    const gchar * const *params)
{
  GString *out = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Response><Connect><Stream url=\"");
  g_autofree gchar *url = bridge_xml_escape (stream_url);
  guint i;

  g_string_append (out, url);
  g_string_append (out, "\">");
  for (i = 0; params && params[i] && params[i + 1] != NULL; i += 2) {
    g_autofree gchar *name = NULL;
    g_autofree gchar *value = NULL;

    if (!*params[i + 1])
      continue;
    name = bridge_xml_escape (params[i]);
    value = bridge_xml_escape (params[i + 1]);
    g_string_append_printf (out, "<Parameter name=\"%s\" value=\"%s\"/>",
        name, value);
  }
  g_string_append (out, "</Stream></Connect></Response>");
  return g_string_free (out, FALSE);
}

gchar *
bridge_twiml_say_hangup (const gchar * message)
{
  g_autofree gchar *text = bridge_xml_escape (message);

  return g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Response><Say>%s</Say><Hangup/></Response>", text);
}

gchar *
bridge_public_http_url (const gchar * public_url, const gchar * path,
    const gchar * query)
{
  return g_strconcat (public_url, path, query && *query ? "?" : "",
      query && *query ? query : "", NULL);
}

gchar *
bridge_public_ws_url (const gchar * public_url, const gchar * path)
{
  if (g_str_has_prefix (public_url, "https://"))
    return g_strconcat ("wss://", public_url + 8, path, NULL);
  if (g_str_has_prefix (public_url, "http://"))
    return g_strconcat ("ws://", public_url + 7, path, NULL);
  return g_strconcat (public_url, path, NULL);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  /* Byte order, as Twilio sorts ("Unix-style case-sensitive"). */
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

gchar *
bridge_twilio_signature (const gchar * auth_token, const gchar * url,
    GHashTable * params)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1,
      (const guchar *) auth_token, strlen (auth_token));
  guint8 digest[20];
  gsize digest_len = sizeof (digest);

  g_hmac_update (hmac, (const guchar *) url, strlen (url));
  if (params && g_hash_table_size (params) > 0) {
    guint n = 0, i;
    g_autofree gpointer keys = g_hash_table_get_keys_as_array (params, &n);
    const gchar **names = keys;

    qsort (names, n, sizeof (gchar *), compare_names);
    for (i = 0; i < n; i++) {
      const gchar *value = g_hash_table_lookup (params, names[i]);

      g_hmac_update (hmac, (const guchar *) names[i], strlen (names[i]));
      if (value)
        g_hmac_update (hmac, (const guchar *) value, strlen (value));
    }
  }
  g_hmac_get_digest (hmac, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

gboolean
bridge_secure_equal (const gchar * a, const gchar * b)
{
  gsize la, lb, i;
  guint8 diff;

  if (!a || !b)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  /* Walk the expected string fully whatever the input. */
  for (i = 0; i < la; i++)
    diff |= (guint8) a[i] ^ (guint8) (i < lb ? b[i] : 0);
  return diff == 0;
}

/* Splits scheme://authority/rest; returns FALSE on a URL without "://". */
static gboolean
split_url (const gchar * url, gchar ** scheme, gchar ** host, gchar ** port,
    gchar ** rest)
{
  const gchar *sep = strstr (url, "://");
  const gchar *authority, *end, *colon;

  if (!sep)
    return FALSE;
  authority = sep + 3;
  end = authority + strcspn (authority, "/?#");
  colon = memchr (authority, ':', end - authority);
  *scheme = g_strndup (url, sep - url);
  if (colon) {
    *host = g_strndup (authority, colon - authority);
    *port = g_strndup (colon + 1, end - colon - 1);
  } else {
    *host = g_strndup (authority, end - authority);
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
  return "80";
}

static void
add_slash_variants (GPtrArray * out, const gchar * url)
{
  const gchar *q = url + strcspn (url, "?");
  gsize path_len = q - url;

  g_ptr_array_add (out, g_strdup (url));
  if (path_len > 0 && url[path_len - 1] == '/') {
    g_autofree gchar *head = g_strndup (url, path_len - 1);

    /* Do not strip the slash of a bare "scheme://host/". */
    if (!g_str_has_suffix (head, ":/") && strstr (head, "://")
        && strchr (strstr (head, "://") + 3, '/'))
      g_ptr_array_add (out, g_strconcat (head, q, NULL));
  } else {
    g_autofree gchar *head = g_strndup (url, path_len);

    g_ptr_array_add (out, g_strconcat (head, "/", q, NULL));
  }
}

gboolean
bridge_twilio_signature_valid (const gchar * auth_token, const gchar * url,
    GHashTable * params, const gchar * signature)
{
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *scheme = NULL;
  g_autofree gchar *host = NULL;
  g_autofree gchar *port = NULL;
  g_autofree gchar *rest = NULL;
  gboolean valid = FALSE;
  guint i;

  if (!auth_token || !signature || !*signature || !url)
    return FALSE;

  add_slash_variants (candidates, url);
  if (split_url (url, &scheme, &host, &port, &rest)) {
    g_autofree gchar *without_port = g_strconcat (scheme, "://", host, rest,
        NULL);
    g_autofree gchar *with_default = g_strconcat (scheme, "://", host, ":",
        default_port (scheme), rest, NULL);

    if (port)
      add_slash_variants (candidates, without_port);
    else
      add_slash_variants (candidates, with_default);
  }

  /* Check every candidate, so timing does not tell which one matched. */
  for (i = 0; i < candidates->len; i++) {
    g_autofree gchar *expected = bridge_twilio_signature (auth_token,
        g_ptr_array_index (candidates, i), params);

    valid |= bridge_secure_equal (expected, signature);
  }
  return valid;
}

gboolean
bridge_bearer_token_valid (const gchar * token, const gchar * authorization,
    const gchar * query_token)
{
  if (!token)
    return TRUE;
  if (authorization && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0) {
    const gchar *given = authorization + 7;

    while (*given == ' ')
      given++;
    if (bridge_secure_equal (token, given))
      return TRUE;
  }
  return bridge_secure_equal (token, query_token);
}
