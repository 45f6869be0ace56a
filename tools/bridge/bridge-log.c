/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Structured log events of the launcher.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-log.h"

#include <string.h>

struct _BridgeLog
{
  BridgeLogFormat format;
  gboolean verbose;
  FILE *out;
  GPtrArray *secrets;
  BridgeLogSubscriber subscriber;
  gpointer subscriber_data;
  /* Recursive: the subscriber may log (a dropped /logs client). */
  GRecMutex lock;
};

BridgeLog *
bridge_log_new (BridgeLogFormat format, gboolean verbose, FILE * out)
{
  BridgeLog *log = g_new0 (BridgeLog, 1);

  log->format = format;
  log->verbose = verbose;
  log->out = out;
  log->secrets = g_ptr_array_new_with_free_func (g_free);
  g_rec_mutex_init (&log->lock);
  return log;
}

void
bridge_log_free (BridgeLog * log)
{
  if (!log)
    return;
  g_ptr_array_unref (log->secrets);
  g_rec_mutex_clear (&log->lock);
  g_free (log);
}

void
bridge_log_add_secret (BridgeLog * log, const gchar * secret)
{
  /* Very short "secrets" would redact ordinary words. */
  if (secret && strlen (secret) >= 4)
    g_ptr_array_add (log->secrets, g_strdup (secret));
}

void
bridge_log_lock (BridgeLog * log)
{
  g_rec_mutex_lock (&log->lock);
}

void
bridge_log_unlock (BridgeLog * log)
{
  g_rec_mutex_unlock (&log->lock);
}

void
bridge_log_set_subscriber (BridgeLog * log, BridgeLogSubscriber func,
    gpointer user_data)
{
  g_rec_mutex_lock (&log->lock);
  log->subscriber = func;
  log->subscriber_data = user_data;
  g_rec_mutex_unlock (&log->lock);
}

static void
add_value (JsonObject * obj, const gchar * name, const GValue * value);

static JsonNode *
strv_to_node (const gchar * const *strv)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (; strv && *strv; strv++)
    json_array_add_string_element (array, *strv);
  json_node_take_array (node, array);
  return node;
}

static gboolean
add_field (GQuark field, const GValue * value, gpointer user_data)
{
  add_value (user_data, g_quark_to_string (field), value);
  return TRUE;
}

static void
add_value (JsonObject * obj, const gchar * name, const GValue * value)
{
  GType type = G_VALUE_TYPE (value);

  if (type == G_TYPE_STRING) {
    const gchar *s = g_value_get_string (value);

    if (s)
      json_object_set_string_member (obj, name, s);
    else
      json_object_set_null_member (obj, name);
  } else if (type == G_TYPE_BOOLEAN) {
    json_object_set_boolean_member (obj, name, g_value_get_boolean (value));
  } else if (type == G_TYPE_INT) {
    json_object_set_int_member (obj, name, g_value_get_int (value));
  } else if (type == G_TYPE_UINT) {
    json_object_set_int_member (obj, name, g_value_get_uint (value));
  } else if (type == G_TYPE_INT64) {
    json_object_set_int_member (obj, name, g_value_get_int64 (value));
  } else if (type == G_TYPE_UINT64) {
    json_object_set_int_member (obj, name,
        (gint64) MIN (g_value_get_uint64 (value), (guint64) G_MAXINT64));
  } else if (type == G_TYPE_LONG) {
    json_object_set_int_member (obj, name, g_value_get_long (value));
  } else if (type == G_TYPE_ULONG) {
    json_object_set_int_member (obj, name, g_value_get_ulong (value));
  } else if (type == G_TYPE_DOUBLE) {
    json_object_set_double_member (obj, name, g_value_get_double (value));
  } else if (type == G_TYPE_FLOAT) {
    json_object_set_double_member (obj, name, g_value_get_float (value));
  } else if (type == G_TYPE_STRV) {
    json_object_set_member (obj, name,
        strv_to_node (g_value_get_boxed (value)));
  } else if (type == GST_TYPE_STRUCTURE) {
    const GstStructure *s = gst_value_get_structure (value);

    if (s)
      json_object_set_object_member (obj, name, bridge_structure_to_json (s));
    else
      json_object_set_null_member (obj, name);
  } else if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST) {
    JsonObject *wrapper = json_object_new ();
    JsonArray *array = json_array_new ();
    guint i, n = type == GST_TYPE_ARRAY ? gst_value_array_get_size (value) :
        gst_value_list_get_size (value);

    for (i = 0; i < n; i++) {
      const GValue *item = type == GST_TYPE_ARRAY ?
          gst_value_array_get_value (value, i) :
          gst_value_list_get_value (value, i);

      add_value (wrapper, "v", item);
      json_array_add_element (array, json_object_dup_member (wrapper, "v"));
    }
    json_object_unref (wrapper);
    json_object_set_array_member (obj, name, array);
  } else {
    g_autofree gchar *serialized = gst_value_serialize (value);

    json_object_set_string_member (obj, name, serialized ? serialized :
        g_type_name (type));
  }
}

const gchar *
bridge_message_log_level (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  const gchar *name;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      return "error";
    case GST_MESSAGE_WARNING:
      return "warning";
    case GST_MESSAGE_INFO:
    case GST_MESSAGE_EOS:
      return "info";
    case GST_MESSAGE_STATE_CHANGED:
      /* The pipeline's (the bus's top-level object): milestones. */
      return GST_MESSAGE_SRC (msg)
          && !GST_OBJECT_PARENT (GST_MESSAGE_SRC (msg)) ? "info" : "debug";
    case GST_MESSAGE_ELEMENT:
      break;
    default:
      return "debug";
  }

  if (!s)
    return "debug";
  name = gst_structure_get_name (s);
  if (g_str_equal (name, "realtime-error")) {
    gboolean fatal = FALSE;

    gst_structure_get_boolean (s, "fatal", &fatal);
    return fatal ? "error" : "warning";
  }
  if (g_str_equal (name, "realtime-reconnecting"))
    return "warning";
  /* One per mark echo (every 20 ms while the model talks): details, not
   * milestones. */
  if (g_str_equal (name, "twilio-mark"))
    return "debug";
  /* One per word or token of every answer: the final transcript (info)
   * has the whole text. */
  if (g_str_equal (name, "realtime-transcript")) {
    gboolean final = FALSE;

    gst_structure_get_boolean (s, "final", &final);
    return final ? "info" : "debug";
  }
  if (g_str_has_prefix (name, "twilio-") || g_str_has_prefix (name,
          "realtime-"))
    return "info";
  return "debug";
}

JsonObject *
bridge_structure_to_json (const GstStructure * s)
{
  JsonObject *obj = json_object_new ();

  gst_structure_foreach (s, add_field, obj);
  return obj;
}

static gchar *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *base = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base,
      g_date_time_get_microsecond (now) / 1000);
}

JsonObject *
bridge_log_build_event (const gchar * level, const BridgeLogIds * ids,
    const gchar * event, JsonObject * fields)
{
  JsonObject *obj = json_object_new ();
  g_autofree gchar *time = now_iso8601 ();

  json_object_set_string_member (obj, "time", time);
  json_object_set_string_member (obj, "level", level);
  if (ids && ids->call_sid)
    json_object_set_string_member (obj, "callSid", ids->call_sid);
  else
    json_object_set_null_member (obj, "callSid");
  if (ids && ids->stream_sid)
    json_object_set_string_member (obj, "streamSid", ids->stream_sid);
  else
    json_object_set_null_member (obj, "streamSid");
  if (ids && ids->call)
    json_object_set_string_member (obj, "call", ids->call);
  json_object_set_string_member (obj, "event", event);
  if (fields) {
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *node;

    json_object_iter_init_ordered (&iter, fields);
    while (json_object_iter_next_ordered (&iter, &name, &node)) {
      /* The fixed keys cannot be overwritten by a message's fields. */
      if (json_object_has_member (obj, name))
        continue;
      json_object_set_member (obj, name, json_node_copy (node));
    }
    json_object_unref (fields);
  }
  return obj;
}

static gchar *
redact (BridgeLog * log, gchar * text)
{
  guint i;

  for (i = 0; i < log->secrets->len; i++) {
    const gchar *secret = g_ptr_array_index (log->secrets, i);

    if (strstr (text, secret)) {
      g_auto (GStrv) parts = g_strsplit (text, secret, -1);

      g_free (text);
      text = g_strjoinv ("[redacted]", parts);
    }
  }
  return text;
}

static gchar *
format_text (JsonObject * obj)
{
  GString *out = g_string_new (NULL);
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;
  const gchar *sid = json_object_get_string_member_with_default (obj,
      "callSid", NULL);

  g_string_append_printf (out, "%s %-7s [%s] %s",
      json_object_get_string_member (obj, "time"),
      json_object_get_string_member (obj, "level"),
      sid ? sid : json_object_get_string_member_with_default (obj, "call",
          "-"), json_object_get_string_member (obj, "event"));
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &name, &node)) {
    if (g_str_equal (name, "time") || g_str_equal (name, "level")
        || g_str_equal (name, "callSid") || g_str_equal (name, "event")
        || JSON_NODE_HOLDS_NULL (node))
      continue;
    if (JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING) {
      g_string_append_printf (out, " %s=\"%s\"", name,
          json_node_get_string (node));
    } else {
      g_autofree gchar *v = json_to_string (node, FALSE);

      g_string_append_printf (out, " %s=%s", name, v);
    }
  }
  return g_string_free (out, FALSE);
}

gboolean
bridge_log_enabled (BridgeLog * log, const gchar * level)
{
  return log->verbose || !g_str_equal (level, "debug");
}

void
bridge_log_emit (BridgeLog * log, const gchar * level,
    const BridgeLogIds * ids, const gchar * event, JsonObject * fields)
{
  g_autoptr (JsonObject) obj = NULL;
  g_autoptr (JsonNode) node = NULL;
  gchar *json;

  if (!bridge_log_enabled (log, level)) {
    if (fields)
      json_object_unref (fields);
    return;
  }
  obj = bridge_log_build_event (level, ids, event, fields);
  node = json_node_init_object (json_node_alloc (), obj);
  json = redact (log, json_to_string (node, FALSE));

  g_rec_mutex_lock (&log->lock);
  if (log->out) {
    if (log->format == BRIDGE_LOG_JSON) {
      fputs (json, log->out);
    } else {
      gchar *text = redact (log, format_text (obj));

      fputs (text, log->out);
      g_free (text);
    }
    fputc ('\n', log->out);
    fflush (log->out);
  }
  if (log->subscriber)
    log->subscriber (json, log->subscriber_data);
  g_rec_mutex_unlock (&log->lock);
  g_free (json);
}

void
bridge_log_emitv (BridgeLog * log, const gchar * level,
    const BridgeLogIds * ids, const gchar * event,
    const gchar * first_field, ...)
{
  GstStructure *s;
  va_list args;

  va_start (args, first_field);
  s = gst_structure_new_valist ("fields", first_field, args);
  va_end (args);
  bridge_log_emit (log, level, ids, event, bridge_structure_to_json (s));
  gst_structure_free (s);
}
