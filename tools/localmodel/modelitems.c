/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model's conversation items: conversation.item.create, .delete,
 * .retrieve and .truncate, and announcing items. Runs on the model's loop
 * thread only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelsession.h"

#include <string.h>

void
model_item_free (ModelItem * item)
{
  g_free (item->id);
  g_free (item->type);
  g_free (item->role);
  g_free (item->call_id);
  g_free (item->name);
  g_free (item->text);
  g_free (item);
}

ModelItem *
model_session_add_item (ModelSession * s, const gchar * id,
    const gchar * type, const gchar * role)
{
  ModelItem *item = g_new0 (ModelItem, 1);

  item->id = g_strdup (id);
  item->type = g_strdup (type);
  item->role = g_strdup (role);
  g_hash_table_replace (s->items, item->id, item);
  g_free (s->last_item_id);
  s->last_item_id = g_strdup (id);
  return item;
}

void
model_utterance_free (ModelUtterance * u)
{
  if (u == NULL)
    return;
  g_free (u->item_id);
  g_array_unref (u->samples);
  g_free (u);
}

/* conversation.item.added + conversation.item.done of a finished item */
void
model_session_announce_item (ModelSession * s, ModelItem * item,
    const gchar * previous)
{
  const gchar *types[] = { "conversation.item.added",
    "conversation.item.done"
  };
  guint i;

  if (strcmp (item->type, "message") == 0 && !item->has_audio) {
    /* text messages: the shared builders say exactly this */
    model_session_send_text (s, realtime_build_item_added (item->id,
            item->role, "completed", item->text, previous));
    model_session_send_text (s, realtime_build_item_done (item->id,
            item->role, "completed", item->text, previous));
    return;
  }
  for (i = 0; i < 2; i++) {
    JsonObject *ev = json_object_new ();

    json_object_set_string_member (ev, "type", types[i]);
    if (previous)
      json_object_set_string_member (ev, "previous_item_id", previous);
    else
      json_object_set_null_member (ev, "previous_item_id");
    json_object_set_object_member (ev, "item",
        model_item_to_json (item, "completed"));
    model_session_send (s, ev);
  }
}

static gchar *
content_text (JsonArray * content)
{
  GString *text = g_string_new (NULL);
  guint i;

  for (i = 0; content && i < json_array_get_length (content); i++) {
    JsonNode *n = json_array_get_element (content, i);
    JsonObject *part;
    const gchar *t;

    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    part = json_node_get_object (n);
    t = json_object_get_string_member_with_default (part, "text",
        json_object_get_string_member_with_default (part, "transcript", NULL));
    if (t)
      g_string_append (text, t);
  }
  return g_string_free (text, FALSE);
}

void
model_items_handle_create (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  static const gchar *const item_types[] =
      { "message", "function_call", "function_call_output", NULL };
  static const gchar *const roles[] = { "user", "system", "assistant", NULL };
  ModelError err = { 0, };
  JsonNode *item_node = json_object_get_member (ev, "item");
  JsonObject *it;
  const gchar *type = NULL, *id = NULL, *previous = NULL, *role = NULL;
  const gchar *call_id = NULL, *name = NULL, *output = NULL, *args = NULL;
  gchar *new_id, *prev;
  ModelItem *item;

  if (item_node == NULL || !JSON_NODE_HOLDS_OBJECT (item_node)) {
    model_error_set (&err, "invalid_request_error",
        item_node ? "invalid_type" : "missing_required_parameter", "item",
        item_node ? "Invalid type for 'item': expected an object." :
        "Missing required parameter: 'item'.");
    goto error;
  }
  it = json_node_get_object (item_node);
  if (!model_protocol_get_string (ev, "previous_item_id", "previous_item_id",
          FALSE, &previous, &err)
      || !model_protocol_get_string (it, "type", "item.type", TRUE, &type, &err)
      || !model_protocol_get_string (it, "id", "item.id", FALSE, &id, &err))
    goto error;
  if (!g_strv_contains (item_types, type)) {
    model_error_set (&err, "invalid_request_error", "invalid_value",
        "item.type", "Invalid value: '%.100s'. Supported values are: "
        "'message', 'function_call', and 'function_call_output'.", type);
    goto error;
  }
  if (previous && strcmp (previous, "root") != 0
      && !g_hash_table_contains (s->items, previous)) {
    model_error_set (&err, "invalid_request_error", "invalid_value",
        "previous_item_id", "Item with id '%.100s' not found.", previous);
    goto error;
  }
  if (strcmp (type, "message") == 0) {
    if (!model_protocol_get_string (it, "role", "item.role", TRUE, &role, &err))
      goto error;
    if (!g_strv_contains (roles, role)) {
      model_error_set (&err, "invalid_request_error", "invalid_value",
          "item.role", "Invalid value: '%.100s'. Supported values are: "
          "'user', 'system', and 'assistant'.", role);
      goto error;
    }
    if (!json_object_has_member (it, "content")
        || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (it, "content"))) {
      model_error_set (&err, "invalid_request_error",
          "missing_required_parameter", "item.content",
          "Missing required parameter: 'item.content'.");
      goto error;
    }
  } else if (strcmp (type, "function_call") == 0) {
    if (!model_protocol_get_string (it, "name", "item.name", TRUE, &name, &err)
        || !model_protocol_get_string (it, "arguments", "item.arguments",
            TRUE, &args, &err)
        || !model_protocol_get_string (it, "call_id", "item.call_id", FALSE,
            &call_id, &err))
      goto error;
  } else {
    if (!model_protocol_get_string (it, "call_id", "item.call_id", TRUE,
            &call_id, &err)
        || !model_protocol_get_string (it, "output", "item.output", TRUE,
            &output, &err))
      goto error;
  }

  new_id = id ? g_strdup (id) : model_protocol_new_id ("item");
  prev = g_strdup (previous ? (strcmp (previous, "root") == 0 ? NULL :
          previous) : s->last_item_id);
  item = model_session_add_item (s, new_id, type, role);
  item->call_id = g_strdup (call_id);
  item->name = g_strdup (name);
  if (role)
    item->text = content_text (json_object_get_array_member (it, "content"));
  else
    item->text = g_strdup (output ? output : args);
  model_session_announce_item (s, item, prev);
  g_free (prev);
  g_free (new_id);

  if (output) {
    MODEL_STAT_ADD (s->server, function_outputs, 1);
    if (g_strcmp0 (call_id, s->awaiting_call_id) == 0) {
      g_free (s->tool_output);
      s->tool_output = g_strdup (output);
    }
  } else if (g_strcmp0 (role, "user") == 0) {
    g_free (s->pending_text);
    s->pending_text = g_strdup (item->text);
  }
  return;

error:
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
}

static ModelItem *
lookup_item (ModelSession * s, JsonObject * ev, const gchar * event_id,
    const gchar ** item_id)
{
  ModelError err = { 0, };
  ModelItem *item;

  if (!model_protocol_get_string (ev, "item_id", "item_id", TRUE, item_id,
          &err))
    goto error;
  item = g_hash_table_lookup (s->items, *item_id);
  if (item)
    return item;
  model_error_set (&err, "invalid_request_error", "invalid_value", "item_id",
      "Item with item_id '%.100s' not found.", *item_id);
error:
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
  return NULL;
}

void
model_items_handle_delete_or_retrieve (ModelSession * s, JsonObject * ev,
    const gchar * event_id, gboolean delete)
{
  const gchar *item_id;
  ModelItem *item = lookup_item (s, ev, event_id, &item_id);
  JsonObject *out;

  if (item == NULL)
    return;
  out = json_object_new ();
  if (delete) {
    json_object_set_string_member (out, "type", "conversation.item.deleted");
    json_object_set_string_member (out, "item_id", item_id);
    g_hash_table_remove (s->items, item_id);
  } else {
    json_object_set_string_member (out, "type", "conversation.item.retrieved");
    json_object_set_object_member (out, "item",
        model_item_to_json (item, "completed"));
  }
  model_session_send (s, out);
}

void
model_items_handle_truncate (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  ModelError err = { 0, };
  const gchar *item_id;
  gint64 content_index = 0, audio_end_ms = 0;
  ModelItem *item;

  if (!model_protocol_get_int (ev, "content_index", "content_index", TRUE,
          &content_index, &err)
      || !model_protocol_get_int (ev, "audio_end_ms", "audio_end_ms", TRUE,
          &audio_end_ms, &err))
    goto error;
  item = lookup_item (s, ev, event_id, &item_id);
  if (item == NULL)
    return;
  if (g_strcmp0 (item->role, "assistant") != 0 || !item->has_audio) {
    model_error_set (&err, "invalid_request_error",
        "unsupported_content_type", "item_id",
        "Only model output audio messages can be truncated");
    goto error;
  }
  if (content_index != 0) {
    model_error_set (&err, "invalid_request_error", "invalid_value",
        "content_index", "Invalid 'content_index': the item has a single "
        "audio content part at index 0.");
    goto error;
  }
  if (audio_end_ms < 0 || (guint64) audio_end_ms > item->audio_ms) {
    model_error_set (&err, "invalid_request_error", "invalid_value",
        "audio_end_ms", "Audio content of %" G_GUINT64_FORMAT "ms is already "
        "shorter than %" G_GINT64_FORMAT "ms", item->audio_ms, audio_end_ms);
    goto error;
  }
  item->audio_ms = audio_end_ms;
  g_mutex_lock (&s->server->lock);
  s->server->stats.truncates++;
  g_array_append_val (s->server->stats.truncate_audio_end_ms, audio_end_ms);
  g_mutex_unlock (&s->server->lock);

  model_session_send_text (s, realtime_build_item_truncated (item_id, 0,
          audio_end_ms));
  return;

error:
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
}
