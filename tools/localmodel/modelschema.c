/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model's session.update schema: RealtimeSessionCreateRequestGA
 * of the GA OpenAPI description, checked strictly like the real API
 * (undeclared fields are unknown_parameter errors, with the parameter path
 * and the real API's error codes). Declared in modelprotocol.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelprotocol.h"

#include <string.h>

typedef gboolean (*CheckFunc) (JsonNode * node, const gchar * path,
    ModelError * err);

typedef struct
{
  const gchar *name;
  CheckFunc check;
} FieldSpec;

static gchar *
child_path (const gchar * path, const gchar * name)
{
  return g_strdup_printf ("%s.%s", path, name);
}

static gboolean
type_error (JsonNode * node, const gchar * path, const gchar * want,
    ModelError * err)
{
  const gchar *got = "a value";

  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      got = "an object";
      break;
    case JSON_NODE_ARRAY:
      got = "an array";
      break;
    case JSON_NODE_NULL:
      got = "null";
      break;
    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        got = "a string";
      else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
        got = "a boolean";
      else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
        got = "a decimal";
      else
        got = "an integer";
      break;
  }
  model_error_set (err, "invalid_request_error", "invalid_type", path,
      "Invalid type for '%s': expected %s, but got %s instead.", path, want,
      got);
  return FALSE;
}

static gboolean
is_string (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
is_number (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && (json_node_get_value_type (node) == G_TYPE_INT64
      || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
check_string (JsonNode * node, const gchar * path, ModelError * err)
{
  return is_string (node) ? TRUE : type_error (node, path, "a string", err);
}

static gboolean
check_bool (JsonNode * node, const gchar * path, ModelError * err)
{
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return TRUE;
  return type_error (node, path, "a boolean", err);
}

static gboolean
check_any_object (JsonNode * node, const gchar * path, ModelError * err)
{
  return JSON_NODE_HOLDS_OBJECT (node) ? TRUE :
      type_error (node, path, "an object", err);
}

static gboolean
check_enum (JsonNode * node, const gchar * path, const gchar * const *values,
    ModelError * err)
{
  GString *list;
  guint i, n;

  if (!is_string (node))
    return type_error (node, path, "a string", err);
  if (g_strv_contains (values, json_node_get_string (node)))
    return TRUE;
  list = g_string_new (NULL);
  n = g_strv_length ((gchar **) values);
  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append (list, n > 2 ? ", " : " ");
    if (i > 0 && i == n - 1)
      g_string_append (list, "and ");
    g_string_append_printf (list, "'%s'", values[i]);
  }
  model_error_set (err, "invalid_request_error", "invalid_value", path,
      "Invalid value: '%.100s'. Supported values are: %s.",
      json_node_get_string (node), list->str);
  g_string_free (list, TRUE);
  return FALSE;
}

/* An array whose every element passes @check (with @data), reporting the
 * first failing element as path[i]. */
typedef gboolean (*ElementCheck) (JsonNode * node, const gchar * path,
    gconstpointer data, ModelError * err);

static gboolean
check_array (JsonNode * node, const gchar * path, ElementCheck check,
    gconstpointer data, ModelError * err)
{
  JsonArray *arr;
  guint i;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error (node, path, "an array", err);
  arr = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (arr); i++) {
    gchar *p = g_strdup_printf ("%s[%u]", path, i);
    gboolean ok = check (json_array_get_element (arr, i), p, data, err);

    g_free (p);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_enum_element (JsonNode * node, const gchar * path, gconstpointer values,
    ModelError * err)
{
  return check_enum (node, path, values, err);
}

static gboolean
check_string_element (JsonNode * node, const gchar * path,
    gconstpointer unused, ModelError * err)
{
  return is_string (node) || type_error (node, path, "a string", err);
}

static gboolean
check_string_array (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_array (node, path, check_string_element, NULL, err);
}

static gboolean
check_range (JsonNode * node, const gchar * path, gboolean integer,
    gdouble min, gdouble max, ModelError * err)
{
  gdouble v;
  const gchar *kind = integer ? "integer" : "decimal";

  if (integer && !(JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_INT64))
    return type_error (node, path, "an integer", err);
  if (!integer && !is_number (node))
    return type_error (node, path, "a number", err);
  v = json_node_get_double (node);
  if (v < min) {
    gchar *code = g_strdup_printf ("%s_below_min_value", kind);
    model_error_set (err, "invalid_request_error", code, path,
        "Invalid '%s': %s below minimum value. Expected a value >= %g, but "
        "got %g instead.", path, kind, min, v);
    g_free (code);
    return FALSE;
  }
  if (v > max) {
    gchar *code = g_strdup_printf ("%s_above_max_value", kind);
    model_error_set (err, "invalid_request_error", code, path,
        "Invalid '%s': %s above maximum value. Expected a value <= %g, but "
        "got %g instead.", path, kind, max, v);
    g_free (code);
    return FALSE;
  }
  return TRUE;
}

static gboolean
missing (const gchar * path, const gchar * name, ModelError * err)
{
  gchar *p = child_path (path, name);

  model_error_set (err, "invalid_request_error",
      "missing_required_parameter", p, "Missing required parameter: '%s'.", p);
  g_free (p);
  return FALSE;
}

/* Checks that @node is an object whose members are all in @fields and
 * valid. */
static gboolean
check_fields (JsonNode * node, const gchar * path, const FieldSpec * fields,
    ModelError * err)
{
  JsonObject *obj;
  GList *members, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return type_error (node, path, "an object", err);
  obj = json_node_get_object (node);
  members = json_object_get_members (obj);
  for (l = members; l && ok; l = l->next) {
    const gchar *name = l->data;
    const FieldSpec *f;
    gchar *p = child_path (path, name);

    for (f = fields; f->name && strcmp (f->name, name) != 0; f++);
    if (f->name == NULL) {
      model_error_set (err, "invalid_request_error", "unknown_parameter", p,
          "Unknown parameter: '%s'.", p);
      ok = FALSE;
    } else if (f->check) {
      ok = f->check (json_object_get_member (obj, name), p, err);
    }
    g_free (p);
  }
  g_list_free (members);
  return ok;
}

/* ---- leaves ----------------------------------------------------------- */

static gboolean
check_format (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const types[] =
      { "audio/pcm", "audio/pcmu", "audio/pcma", NULL };
  static const FieldSpec fields[] =
      { {"type", NULL}, {"rate", NULL}, {NULL, NULL} };
  JsonObject *obj;
  JsonNode *type, *rate;
  gchar *p;
  gboolean ok;

  if (!check_fields (node, path, fields, err))
    return FALSE;
  obj = json_node_get_object (node);
  type = json_object_get_member (obj, "type");
  if (type == NULL)
    return missing (path, "type", err);
  p = child_path (path, "type");
  ok = check_enum (type, p, types, err);
  g_free (p);
  if (!ok)
    return FALSE;
  rate = json_object_get_member (obj, "rate");
  if (strcmp (json_node_get_string (type), "audio/pcm") == 0) {
    if (rate == NULL)
      return missing (path, "rate", err);
    p = child_path (path, "rate");
    ok = check_range (rate, p, TRUE, 0, G_MAXINT32, err);
    if (ok && json_node_get_int (rate) != 24000) {
      model_error_set (err, "invalid_request_error", "invalid_value", p,
          "Invalid value: %" G_GINT64_FORMAT ". Supported values are: 24000.",
          json_node_get_int (rate));
      ok = FALSE;
    }
    g_free (p);
    return ok;
  }
  /* G.711 has no rate; 8000 is tolerated as it is the only true value */
  if (rate != NULL) {
    p = child_path (path, "rate");
    ok = check_range (rate, p, TRUE, 0, G_MAXINT32, err);
    if (ok && json_node_get_int (rate) != 8000) {
      model_error_set (err, "invalid_request_error", "unknown_parameter", p,
          "Unknown parameter: '%s'.", p);
      ok = FALSE;
    }
    g_free (p);
    return ok;
  }
  return TRUE;
}

static gboolean
check_threshold (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_range (node, path, FALSE, 0, 1, err);
}

static gboolean
check_ms (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_range (node, path, TRUE, 0, 10000, err);
}

static gboolean
check_idle_timeout (JsonNode * node, const gchar * path, ModelError * err)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return check_range (node, path, TRUE, 5000, 30000, err);
}

static gboolean
check_eagerness (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] =
      { "low", "medium", "high", "auto", NULL };
  return check_enum (node, path, values, err);
}

static gboolean
check_turn_detection (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const types[] = { "server_vad", "semantic_vad", NULL };
  static const FieldSpec server_fields[] = {
    {"type", NULL}, {"threshold", check_threshold},
    {"prefix_padding_ms", check_ms}, {"silence_duration_ms", check_ms},
    {"create_response", check_bool}, {"interrupt_response", check_bool},
    {"idle_timeout_ms", check_idle_timeout}, {NULL, NULL}
  };
  static const FieldSpec semantic_fields[] = {
    {"type", NULL}, {"eagerness", check_eagerness},
    {"create_response", check_bool}, {"interrupt_response", check_bool},
    {NULL, NULL}
  };
  JsonNode *type;
  gchar *p;
  gboolean ok;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return type_error (node, path, "an object", err);
  type = json_object_get_member (json_node_get_object (node), "type");
  if (type == NULL)
    return missing (path, "type", err);
  p = child_path (path, "type");
  ok = check_enum (type, p, types, err);
  g_free (p);
  if (!ok)
    return FALSE;
  return check_fields (node, path,
      strcmp (json_node_get_string (type), "server_vad") == 0 ?
      server_fields : semantic_fields, err);
}

static gboolean
check_delay (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] =
      { "minimal", "low", "medium", "high", "xhigh", NULL };
  return check_enum (node, path, values, err);
}

static gboolean
check_transcription (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = {
    {"model", check_string}, {"language", check_string},
    {"languages", check_string_array}, {"keywords", check_string_array},
    {"prompt", check_string}, {"delay", check_delay}, {NULL, NULL}
  };
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return check_fields (node, path, fields, err);
}

static gboolean
check_noise_type (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "near_field", "far_field", NULL };
  return check_enum (node, path, values, err);
}

static gboolean
check_noise_reduction (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] =
      { {"type", check_noise_type}, {NULL, NULL} };
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return check_fields (node, path, fields, err);
}

static gboolean
check_voice (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = { {"id", check_string}, {NULL, NULL} };
  if (is_string (node))
    return TRUE;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return check_fields (node, path, fields, err);
  return type_error (node, path, "a string", err);
}

static gboolean
check_speed (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_range (node, path, FALSE, 0.25, 1.5, err);
}

static gboolean
check_audio_input (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = {
    {"format", check_format}, {"transcription", check_transcription},
    {"noise_reduction", check_noise_reduction},
    {"turn_detection", check_turn_detection}, {NULL, NULL}
  };
  return check_fields (node, path, fields, err);
}

static gboolean
check_audio_output (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = {
    {"format", check_format}, {"voice", check_voice},
    {"speed", check_speed}, {NULL, NULL}
  };
  return check_fields (node, path, fields, err);
}

static gboolean
check_audio (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = {
    {"input", check_audio_input}, {"output", check_audio_output},
    {NULL, NULL}
  };
  return check_fields (node, path, fields, err);
}

static gboolean
check_modalities (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "text", "audio", NULL };

  if (!check_array (node, path, check_enum_element, values, err))
    return FALSE;
  if (json_array_get_length (json_node_get_array (node)) != 1) {
    model_error_set (err, "invalid_request_error", "invalid_value", path,
        "Invalid '%s': exactly one of 'text' or 'audio' is supported.", path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_include (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] =
      { "item.input_audio_transcription.logprobs", NULL };

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return check_array (node, path, check_enum_element, values, err);
}

static gboolean
check_tracing (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "auto", NULL };
  static const FieldSpec fields[] = {
    {"workflow_name", check_string}, {"group_id", check_string},
    {"metadata", check_any_object}, {NULL, NULL}
  };
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (is_string (node))
    return check_enum (node, path, values, err);
  return check_fields (node, path, fields, err);
}

static gboolean
check_tool (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const types[] = { "function", "mcp", NULL };
  static const FieldSpec function_fields[] = {
    {"type", NULL}, {"name", check_string}, {"description", check_string},
    {"parameters", check_any_object}, {NULL, NULL}
  };
  JsonObject *obj;
  JsonNode *type;
  gchar *p;
  gboolean ok;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return type_error (node, path, "an object", err);
  obj = json_node_get_object (node);
  type = json_object_get_member (obj, "type");
  if (type == NULL)
    return missing (path, "type", err);
  p = child_path (path, "type");
  ok = check_enum (type, p, types, err);
  g_free (p);
  if (!ok)
    return FALSE;
  if (strcmp (json_node_get_string (type), "mcp") == 0) {
    /* MCP tools are accepted as declared; the model never calls them */
    if (!json_object_has_member (obj, "server_label"))
      return missing (path, "server_label", err);
    return TRUE;
  }
  if (!check_fields (node, path, function_fields, err))
    return FALSE;
  if (!json_object_has_member (obj, "name"))
    return missing (path, "name", err);
  return TRUE;
}

static gboolean
check_tool_element (JsonNode * node, const gchar * path, gconstpointer unused,
    ModelError * err)
{
  return check_tool (node, path, err);
}

static gboolean
check_tools (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_array (node, path, check_tool_element, NULL, err);
}

static gboolean
check_tool_choice (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "none", "auto", "required", NULL };
  static const gchar *const types[] = { "function", "mcp", NULL };
  static const FieldSpec fields[] = {
    {"type", NULL}, {"name", check_string}, {"server_label", check_string},
    {NULL, NULL}
  };
  JsonNode *type;
  gchar *p;
  gboolean ok;

  if (is_string (node))
    return check_enum (node, path, values, err);
  if (!check_fields (node, path, fields, err))
    return FALSE;
  type = json_object_get_member (json_node_get_object (node), "type");
  if (type == NULL)
    return missing (path, "type", err);
  p = child_path (path, "type");
  ok = check_enum (type, p, types, err);
  g_free (p);
  return ok;
}

static gboolean
check_max_tokens (JsonNode * node, const gchar * path, ModelError * err)
{
  if (is_string (node)) {
    static const gchar *const values[] = { "inf", NULL };
    return check_enum (node, path, values, err);
  }
  return check_range (node, path, TRUE, 1, 4096, err);
}

static gboolean
check_effort (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] =
      { "minimal", "low", "medium", "high", "xhigh", NULL };
  return check_enum (node, path, values, err);
}

static gboolean
check_reasoning (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = { {"effort", check_effort}, {NULL, NULL} };
  return check_fields (node, path, fields, err);
}

static gboolean
check_ratio (JsonNode * node, const gchar * path, ModelError * err)
{
  return check_range (node, path, FALSE, 0, 1, err);
}

static gboolean
check_truncation (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "auto", "disabled", NULL };
  static const FieldSpec fields[] = {
    {"type", NULL}, {"retention_ratio", check_ratio},
    {"token_limits", check_any_object}, {NULL, NULL}
  };
  if (is_string (node))
    return check_enum (node, path, values, err);
  return check_fields (node, path, fields, err);
}

static gboolean
check_prompt (JsonNode * node, const gchar * path, ModelError * err)
{
  static const FieldSpec fields[] = {
    {"id", check_string}, {"version", check_string},
    {"variables", check_any_object}, {NULL, NULL}
  };
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return check_fields (node, path, fields, err);
}

static gboolean
check_session_type (JsonNode * node, const gchar * path, ModelError * err)
{
  static const gchar *const values[] = { "realtime", NULL };
  return check_enum (node, path, values, err);
}

static const FieldSpec session_fields[] = {
  {"type", check_session_type}, {"output_modalities", check_modalities},
  {"model", check_string}, {"instructions", check_string},
  {"audio", check_audio}, {"include", check_include},
  {"tracing", check_tracing}, {"tools", check_tools},
  {"tool_choice", check_tool_choice}, {"parallel_tool_calls", check_bool},
  {"reasoning", check_reasoning}, {"max_output_tokens", check_max_tokens},
  {"truncation", check_truncation}, {"prompt", check_prompt},
  {NULL, NULL}
};

gboolean
model_session_validate_update (JsonNode * update, ModelError * err)
{
  if (update == NULL) {
    model_error_set (err, "invalid_request_error",
        "missing_required_parameter", "session",
        "Missing required parameter: 'session'.");
    return FALSE;
  }
  if (!check_fields (update, "session", session_fields, err))
    return FALSE;
  if (!json_object_has_member (json_node_get_object (update), "type"))
    return missing ("session", "type", err);
  return TRUE;
}
