/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Server side of the GA Realtime protocol for the local model; see
 * modelprotocol.h. The session schema below follows
 * RealtimeSessionCreateRequestGA of the GA OpenAPI description.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelprotocol.h"
#include "realtimeprotocolprivate.h"

#include <string.h>

/* ---- errors and ids --------------------------------------------------- */

void
model_error_set (ModelError * err, const gchar * type, const gchar * code,
    const gchar * param, const gchar * format, ...)
{
  va_list args;

  if (err == NULL)
    return;
  model_error_clear (err);
  err->type = g_strdup (type);
  err->code = g_strdup (code);
  err->param = g_strdup (param);
  va_start (args, format);
  err->message = g_strdup_vprintf (format, args);
  va_end (args);
}

void
model_error_clear (ModelError * err)
{
  g_clear_pointer (&err->type, g_free);
  g_clear_pointer (&err->code, g_free);
  g_clear_pointer (&err->message, g_free);
  g_clear_pointer (&err->param, g_free);
}

gchar *
model_protocol_new_id (const gchar * prefix)
{
  static const gchar alphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  GString *id = g_string_new (prefix);
  guint i;

  g_string_append_c (id, '_');
  for (i = 0; i < 21; i++)
    g_string_append_c (id, alphabet[g_random_int_range (0, 62)]);
  return g_string_free (id, FALSE);
}

gchar *
model_protocol_event_to_text (JsonObject * event)
{
  JsonObject *out = json_object_new ();
  JsonNode *root;
  GList *members, *l;
  gchar *text;
  gchar *id;

  /* "type" and "event_id" first, as the real API orders them */
  json_object_set_string_member (out, "type",
      json_object_get_string_member (event, "type"));
  id = model_protocol_new_id ("event");
  json_object_set_string_member (out, "event_id", id);
  g_free (id);
  members = json_object_get_members (event);
  for (l = members; l; l = l->next) {
    const gchar *name = l->data;

    if (strcmp (name, "type") == 0)
      continue;
    json_object_set_member (out, name,
        json_node_copy (json_object_get_member (event, name)));
  }
  g_list_free (members);
  json_object_unref (event);

  root = json_node_init_object (json_node_alloc (), out);
  text = json_to_string (root, FALSE);
  json_node_unref (root);
  json_object_unref (out);
  return text;
}

/* ---- client events ---------------------------------------------------- */

static const gchar *const client_event_types[] = {
  "session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
  "input_audio_buffer.clear", "conversation.item.create",
  "conversation.item.truncate", "conversation.item.delete",
  "conversation.item.retrieve", "response.create", "response.cancel",
  "output_audio_buffer.clear", NULL
};

static gchar *
quoted_list (const gchar * const *values)
{
  GString *s = g_string_new (NULL);
  guint n = g_strv_length ((gchar **) values);
  guint i;

  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append (s, n > 2 ? ", " : " ");
    if (i > 0 && i == n - 1)
      g_string_append (s, "and ");
    g_string_append_printf (s, "'%s'", values[i]);
  }
  return g_string_free (s, FALSE);
}

static const gchar *
describe_node (JsonNode * node)
{
  GType vt;

  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      vt = json_node_get_value_type (node);
      if (vt == G_TYPE_STRING)
        return "a string";
      if (vt == G_TYPE_BOOLEAN)
        return "a boolean";
      if (vt == G_TYPE_DOUBLE)
        return "a decimal";
      return "an integer";
  }
  return "a value";
}

static void
set_invalid_type (ModelError * err, const gchar * path, const gchar * want,
    JsonNode * node)
{
  model_error_set (err, "invalid_request_error", "invalid_type", path,
      "Invalid type for '%s': expected %s, but got %s instead.", path, want,
      describe_node (node));
}

JsonObject *
model_protocol_parse_client (const gchar * text, gsize length,
    const gchar ** type, gchar ** event_id, ModelError * err)
{
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonNode *root;
  JsonObject *obj = NULL;
  JsonNode *type_node;

  *type = NULL;
  *event_id = NULL;
  if (!json_parser_load_from_data (parser, text, length, &error)) {
    model_error_set (err, "invalid_request_error", "invalid_json", NULL,
        "We could not parse the JSON body of your request. (%s)",
        error->message);
    g_error_free (error);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    model_error_set (err, "invalid_request_error", "invalid_event", NULL,
        "Expected an event object, but got %s.",
        root ? describe_node (root) : "nothing");
    goto out;
  }
  obj = json_node_get_object (root);
  if (json_object_has_member (obj, "event_id")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "event_id"))
      && json_object_get_string_member (obj, "event_id"))
    *event_id = g_strdup (json_object_get_string_member (obj, "event_id"));

  type_node = json_object_get_member (obj, "type");
  if (type_node == NULL || JSON_NODE_HOLDS_NULL (type_node)) {
    model_error_set (err, "invalid_request_error", "invalid_event", NULL,
        "The 'type' field is missing.");
    obj = NULL;
    goto out;
  }
  if (!JSON_NODE_HOLDS_VALUE (type_node)
      || json_node_get_value_type (type_node) != G_TYPE_STRING) {
    set_invalid_type (err, "type", "a string", type_node);
    obj = NULL;
    goto out;
  }
  if (!g_strv_contains (client_event_types, json_node_get_string (type_node))) {
    gchar *list = quoted_list (client_event_types);

    model_error_set (err, "invalid_request_error", "invalid_value", "type",
        "Invalid value: '%.100s'. Supported values are: %s.",
        json_node_get_string (type_node), list);
    g_free (list);
    obj = NULL;
    goto out;
  }
  json_object_ref (obj);
  *type = json_node_get_string (type_node);

out:
  g_object_unref (parser);
  return obj;
}

gboolean
model_protocol_get_string (JsonObject * obj, const gchar * name,
    const gchar * path, gboolean required, const gchar ** out, ModelError * err)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  *out = NULL;
  if (node == NULL || (JSON_NODE_HOLDS_NULL (node) && !required)) {
    if (!required)
      return TRUE;
    model_error_set (err, "invalid_request_error",
        "missing_required_parameter", path,
        "Missing required parameter: '%s'.", path);
    return FALSE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    set_invalid_type (err, path, "a string", node);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
model_protocol_get_int (JsonObject * obj, const gchar * name,
    const gchar * path, gboolean required, gint64 * out, ModelError * err)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (node == NULL) {
    if (!required)
      return TRUE;
    model_error_set (err, "invalid_request_error",
        "missing_required_parameter", path,
        "Missing required parameter: '%s'.", path);
    return FALSE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64) {
    set_invalid_type (err, path, "an integer", node);
    return FALSE;
  }
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
model_protocol_check_known (JsonObject * obj, const gchar * path,
    const gchar * const *known, ModelError * err)
{
  GList *members = json_object_get_members (obj);
  GList *l;
  gboolean ok = TRUE;

  for (l = members; l && ok; l = l->next) {
    if (!g_strv_contains (known, l->data)) {
      gchar *full = path ? g_strdup_printf ("%s.%s", path,
          (const gchar *) l->data) : g_strdup (l->data);

      model_error_set (err, "invalid_request_error", "unknown_parameter",
          full, "Unknown parameter: '%s'.", full);
      g_free (full);
      ok = FALSE;
    }
  }
  g_list_free (members);
  return ok;
}

JsonObject *
model_protocol_object_member (JsonObject * obj, const gchar * name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
}

#define APPEND_FAST_PREFIX \
  "{\"type\":\"input_audio_buffer.append\",\"audio\":\""
#define APPEND_FAST_EVENT_ID ",\"event_id\":\""

/* An event id the fast path can take as it is: no escapes, no control
 * characters, ASCII (anything else goes through the JSON parser). */
static inline gboolean
is_plain_id_char (gchar c)
{
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

GBytes *
model_protocol_parse_append_fast (const gchar * text, gsize length,
    gchar ** event_id)
{
  const gsize prefix_len = sizeof (APPEND_FAST_PREFIX) - 1;
  const gsize id_len = sizeof (APPEND_FAST_EVENT_ID) - 1;
  const gchar *end = text + length, *audio, *p, *id = NULL;
  gsize audio_len, n_id = 0;
  GBytes *bytes;

  *event_id = NULL;
  if (length < prefix_len + 2 || memcmp (text, APPEND_FAST_PREFIX,
          prefix_len) != 0)
    return NULL;
  audio = text + prefix_len;
  /* up to the closing quote: anything in between that is not base64 (an
   * escape, say) makes the strict decoder below refuse it */
  p = memchr (audio, '"', end - audio);
  if (p == NULL)
    return NULL;
  audio_len = p - audio;
  p++;
  if ((gsize) (end - p) > id_len && memcmp (p, APPEND_FAST_EVENT_ID,
          id_len) == 0) {
    id = p += id_len;
    while (p < end && is_plain_id_char (*p))
      p++;
    if (p >= end || *p != '"')
      return NULL;
    n_id = p - id;
    p++;
  }
  if (p + 1 != end || *p != '}')
    return NULL;
  /* the elements' own strict decoder: what the full parser uses too */
  bytes = rtp_base64_decode_strict (audio, audio_len);
  if (bytes == NULL)
    return NULL;
  if (id)
    *event_id = g_strndup (id, n_id);
  return bytes;
}

/* The largest output of one g_base64_encode_step () of @size bytes. */
#define BASE64_STEP_MAX(size) (((size) / 3 + 1) * 4 + 4)

gchar *
model_protocol_build_audio_delta (const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size)
{
  gchar *event_id = model_protocol_new_id ("event");
  GString *text = g_string_sized_new (200 + BASE64_STEP_MAX (size));
  gint state = 0, save = 0;
  gsize len;

  /* the same members, in the same order, as realtime_build_output_audio_
   * delta (); every string here is an id of base62 characters or base64,
   * none needs escaping */
  g_string_append_printf (text, "{\"event_id\":\"%s\","
      "\"type\":\"response.output_audio.delta\",\"response_id\":\"%s\","
      "\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,"
      "\"delta\":\"", event_id, response_id, item_id);
  len = text->len;
  g_string_set_size (text, len + BASE64_STEP_MAX (size));
  len += g_base64_encode_step (data, size, FALSE, text->str + len, &state,
      &save);
  len += g_base64_encode_close (FALSE, text->str + len, &state, &save);
  g_string_truncate (text, len);
  g_string_append (text, "\"}");
  g_free (event_id);
  return g_string_free (text, FALSE);
}
