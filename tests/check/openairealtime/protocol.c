/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the pure Realtime protocol code (realtimeprotocol.h): every
 * builder is parsed back by the parser of the other side, real GA events
 * from the reference are parsed, and broken input is rejected with an
 * error, never a crash.
 */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "realtimeprotocol.h"

/* Parses @json and returns its root object (a new ref). */
static JsonObject *
parse_object (const gchar * json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;

  fail_unless (json_parser_load_from_data (parser, json, -1, NULL),
      "not JSON: %s", json);
  fail_unless (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  object = json_node_get_object (json_parser_get_root (parser));
  return json_object_ref (object);
}

static const gchar *
path_string (JsonObject * object, const gchar * path)
{
  gchar **parts = g_strsplit (path, ".", -1);
  const gchar *result = NULL;
  guint i;

  for (i = 0; parts[i]; i++) {
    JsonNode *node = json_object_get_member (object, parts[i]);
    if (node == NULL)
      break;
    if (parts[i + 1] == NULL) {
      if (JSON_NODE_HOLDS_VALUE (node))
        result = json_node_get_string (node);
      break;
    }
    if (!JSON_NODE_HOLDS_OBJECT (node))
      break;
    object = json_node_get_object (node);
  }
  g_strfreev (parts);
  return result;
}

static JsonNode *
path_node (JsonObject * object, const gchar * path)
{
  gchar **parts = g_strsplit (path, ".", -1);
  JsonNode *node = NULL;
  guint i;

  for (i = 0; parts[i]; i++) {
    node = json_object_get_member (object, parts[i]);
    if (node == NULL || parts[i + 1] == NULL)
      break;
    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      node = NULL;
      break;
    }
    object = json_node_get_object (node);
  }
  g_strfreev (parts);
  return node;
}

GST_START_TEST (test_session_update_defaults)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  g_autofree gchar *json = NULL;
  JsonObject *obj;
  JsonNode *rate;

  json = realtime_build_session_update (config, NULL);
  fail_unless (json != NULL);
  obj = parse_object (json);
  fail_unless_equals_string (path_string (obj, "type"), "session.update");
  fail_unless_equals_string (path_string (obj, "session.type"), "realtime");
  fail_unless_equals_string (path_string (obj,
          "session.audio.input.format.type"), "audio/pcm");
  rate = path_node (obj, "session.audio.output.format.rate");
  fail_unless (rate != NULL);
  fail_unless_equals_int (json_node_get_int (rate), 24000);
  fail_unless_equals_string (path_string (obj,
          "session.audio.input.turn_detection.type"), "server_vad");
  /* GA only: no beta fields, no model (chosen by the URL) */
  fail_unless (strstr (json, "input_audio_format") == NULL);
  fail_unless (strstr (json, "modalities") == NULL);
  fail_unless (path_node (obj, "session.model") == NULL);
  fail_unless (path_node (obj, "session.voice") == NULL);
  json_object_unref (obj);
}

GST_END_TEST;

GST_START_TEST (test_session_update_full_roundtrip)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  g_autoptr (RealtimeClientEvent) event = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *json = NULL;
  JsonObject *obj;

  config->instructions = g_strdup ("Be brief.");
  config->voice = g_strdup ("marin");
  config->input_format = REALTIME_AUDIO_FORMAT_PCMU;
  config->output_format = REALTIME_AUDIO_FORMAT_PCMA;
  config->vad_threshold = 0.6;
  config->prefix_padding_ms = 250;
  config->silence_duration_ms = 400;
  config->idle_timeout_ms = 6000;
  config->interrupt_response = FALSE;
  config->transcription_model = g_strdup ("gpt-4o-mini-transcribe");
  config->noise_reduction = REALTIME_NOISE_REDUCTION_FAR_FIELD;
  config->tools_json = g_strdup ("[{\"type\":\"function\",\"name\":\"hangup\","
      "\"description\":\"End the call\",\"parameters\":{\"type\":\"object\"}}]");
  config->extra_json =
      g_strdup
      ("{\"audio\":{\"output\":{\"speed\":1.2}},\"tool_choice\":\"auto\"}");

  json = realtime_build_session_update (config, &error);
  fail_unless (json != NULL, "%s", error ? error->message : "");
  obj = parse_object (json);
  /* extra merged deeply: the format survives next to speed */
  fail_unless_equals_string (path_string (obj,
          "session.audio.output.format.type"), "audio/pcma");
  fail_unless (path_node (obj, "session.audio.output.speed") != NULL);
  fail_unless (path_node (obj, "session.audio.output.format.rate") == NULL);
  fail_unless_equals_string (path_string (obj, "session.tool_choice"), "auto");
  fail_unless_equals_string (path_string (obj,
          "session.audio.input.noise_reduction.type"), "far_field");
  json_object_unref (obj);

  event = realtime_client_event_parse (json, -1, &error);
  fail_unless (event != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (event->type, REALTIME_CLIENT_SESSION_UPDATE);
  fail_unless_equals_string (event->session_type, "realtime");
  fail_unless_equals_int (event->session->input_format,
      REALTIME_AUDIO_FORMAT_PCMU);
  fail_unless_equals_int (event->session->output_format,
      REALTIME_AUDIO_FORMAT_PCMA);
  fail_unless_equals_string (event->session->voice, "marin");
  fail_unless_equals_string (event->session->instructions, "Be brief.");
  fail_unless_equals_int (event->session->prefix_padding_ms, 250);
  fail_unless_equals_int (event->session->silence_duration_ms, 400);
  fail_unless_equals_int (event->session->idle_timeout_ms, 6000);
  fail_unless (event->session->vad_threshold > 0.59
      && event->session->vad_threshold < 0.61);
  fail_unless (!event->session->interrupt_response);
  fail_unless (event->session->create_response);
  fail_unless_equals_string (event->session->transcription_model,
      "gpt-4o-mini-transcribe");
  fail_unless_equals_int (event->session->noise_reduction,
      REALTIME_NOISE_REDUCTION_FAR_FIELD);
  fail_unless (strstr (event->session->tools_json, "hangup") != NULL);
}

GST_END_TEST;

GST_START_TEST (test_session_update_turn_detection_variants)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  g_autofree gchar *none_json = NULL;
  g_autofree gchar *semantic_json = NULL;
  JsonObject *obj;
  JsonNode *td;

  config->turn_detection = REALTIME_TURN_DETECTION_NONE;
  none_json = realtime_build_session_update (config, NULL);
  obj = parse_object (none_json);
  td = path_node (obj, "session.audio.input.turn_detection");
  fail_unless (td != NULL && JSON_NODE_HOLDS_NULL (td),
      "turn detection none must be sent as null");
  json_object_unref (obj);

  config->turn_detection = REALTIME_TURN_DETECTION_SEMANTIC_VAD;
  config->vad_threshold = 0.9;
  config->silence_duration_ms = 700;
  semantic_json = realtime_build_session_update (config, NULL);
  obj = parse_object (semantic_json);
  fail_unless_equals_string (path_string (obj,
          "session.audio.input.turn_detection.type"), "semantic_vad");
  /* server_vad-only settings are not declared for semantic_vad */
  fail_unless (path_node (obj,
          "session.audio.input.turn_detection.threshold") == NULL);
  fail_unless (path_node (obj,
          "session.audio.input.turn_detection.silence_duration_ms") == NULL);
  json_object_unref (obj);
}

GST_END_TEST;

GST_START_TEST (test_session_config_invalid_json)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  g_autoptr (GError) error = NULL;
  gchar *json;

  config->tools_json = g_strdup ("{\"not\":\"an array\"}");
  fail_if (realtime_session_config_validate (config, &error));
  fail_unless (g_error_matches (error, REALTIME_PROTOCOL_ERROR,
          REALTIME_PROTOCOL_ERROR_INVALID));
  g_clear_error (&error);
  json = realtime_build_session_update (config, &error);
  fail_unless (json == NULL && error != NULL);
  g_clear_error (&error);

  g_free (config->tools_json);
  config->tools_json = NULL;
  config->extra_json = g_strdup ("{broken");
  fail_if (realtime_session_config_validate (config, &error));
  fail_unless (g_error_matches (error, REALTIME_PROTOCOL_ERROR,
          REALTIME_PROTOCOL_ERROR_SYNTAX));
}

GST_END_TEST;

GST_START_TEST (test_client_events_roundtrip)
{
  const guint8 audio[] = { 0xff, 0x7f, 0x00, 0x80, 0x01 };
  gchar *json;
  RealtimeClientEvent *event;
  gsize size;
  const guint8 *data;

  json = realtime_build_input_audio_append (audio, sizeof (audio));
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_INPUT_AUDIO_APPEND);
  data = g_bytes_get_data (event->audio, &size);
  fail_unless_equals_int (size, sizeof (audio));
  fail_unless (memcmp (data, audio, size) == 0);
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_item_create_message ("assistant", "Hello there");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_ITEM_CREATE);
  fail_unless_equals_int (event->item.type, REALTIME_ITEM_MESSAGE);
  fail_unless_equals_string (event->item.role, "assistant");
  fail_unless_equals_string (event->item.text, "Hello there");
  fail_unless (strstr (json, "\"output_text\"") != NULL);
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_item_create_message ("user", "I need help");
  fail_unless (strstr (json, "\"input_text\"") != NULL);
  g_free (json);

  json = realtime_build_item_create_function_call_output ("call_1",
      "{\"ok\":true}");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_ITEM_CREATE);
  fail_unless_equals_int (event->item.type, REALTIME_ITEM_FUNCTION_CALL_OUTPUT);
  fail_unless_equals_string (event->item.call_id, "call_1");
  fail_unless_equals_string (event->item.output, "{\"ok\":true}");
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_item_create_function_call ("call_2", "lookup",
      "{\"q\":1}");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->item.type == REALTIME_ITEM_FUNCTION_CALL);
  fail_unless_equals_string (event->item.name, "lookup");
  fail_unless_equals_string (event->item.arguments, "{\"q\":1}");
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_item_truncate ("item_9", 0, 1234);
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_ITEM_TRUNCATE);
  fail_unless_equals_string (event->item_id, "item_9");
  fail_unless_equals_int (event->content_index, 0);
  fail_unless_equals_int64 (event->audio_end_ms, 1234);
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_response_create ("Greet the caller");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_RESPONSE_CREATE);
  fail_unless_equals_string (event->instructions, "Greet the caller");
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_response_create (NULL);
  fail_unless_equals_string (json, "{\"type\":\"response.create\"}");
  g_free (json);

  json = realtime_build_response_cancel ("resp_1");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_RESPONSE_CANCEL);
  fail_unless_equals_string (event->response_id, "resp_1");
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_input_audio_commit ();
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_INPUT_AUDIO_COMMIT);
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_input_audio_clear ();
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_INPUT_AUDIO_CLEAR);
  realtime_client_event_free (event);
  g_free (json);

  json = realtime_build_item_delete ("item_3");
  event = realtime_client_event_parse (json, -1, NULL);
  fail_unless (event && event->type == REALTIME_CLIENT_ITEM_DELETE);
  fail_unless_equals_string (event->item_id, "item_3");
  realtime_client_event_free (event);
  g_free (json);
}

GST_END_TEST;

/* Events as the GA server sends them (shapes from the GA spec examples). */
GST_START_TEST (test_parse_real_server_events)
{
  RealtimeServerEvent *ev;
  g_autoptr (GError) error = NULL;

  ev = realtime_server_event_parse ("{\"type\":\"session.created\","
      "\"event_id\":\"event_C9G5RJeJ2gF77mV7f2B1j\",\"session\":{"
      "\"type\":\"realtime\",\"object\":\"realtime.session\","
      "\"id\":\"sess_C9G5QPteg4UIbotdKLoYQ\",\"model\":\"gpt-realtime-2025-08-28\","
      "\"output_modalities\":[\"audio\"],\"instructions\":\"Your knowledge cutoff is 2023-10.\","
      "\"tools\":[],\"tool_choice\":\"auto\",\"max_output_tokens\":\"inf\","
      "\"tracing\":null,\"prompt\":null,\"expires_at\":1756324625,"
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
      "\"transcription\":null,\"noise_reduction\":null,\"turn_detection\":{"
      "\"type\":\"server_vad\",\"threshold\":0.5,\"prefix_padding_ms\":300,"
      "\"silence_duration_ms\":200,\"idle_timeout_ms\":null,"
      "\"create_response\":true,\"interrupt_response\":true}},"
      "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
      "\"voice\":\"marin\",\"speed\":1}},\"include\":null}}", -1, &error);
  fail_unless (ev != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (ev->type, REALTIME_SERVER_SESSION_CREATED);
  fail_unless_equals_string (ev->session_id, "sess_C9G5QPteg4UIbotdKLoYQ");
  fail_unless_equals_int64 (ev->expires_at, 1756324625);
  fail_unless_equals_string (ev->session->model, "gpt-realtime-2025-08-28");
  fail_unless_equals_string (ev->session->voice, "marin");
  fail_unless_equals_int (ev->session->input_format,
      REALTIME_AUDIO_FORMAT_PCM16);
  fail_unless_equals_int (ev->session->output_format,
      REALTIME_AUDIO_FORMAT_PCM16);
  fail_unless_equals_int (ev->session->silence_duration_ms, 200);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"event_id\":\"event_1\",\"type\":"
      "\"input_audio_buffer.speech_started\",\"audio_start_ms\":1000,"
      "\"item_id\":\"msg_003\"}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_SPEECH_STARTED);
  fail_unless_equals_int64 (ev->audio_start_ms, 1000);
  fail_unless_equals_string (ev->item_id, "msg_003");
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"event_id\":\"event_2\",\"type\":"
      "\"input_audio_buffer.speech_stopped\",\"audio_end_ms\":2000,"
      "\"item_id\":\"msg_003\"}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_SPEECH_STOPPED);
  fail_unless_equals_int64 (ev->audio_end_ms, 2000);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"type\":\"response.done\","
      "\"event_id\":\"event_CCXHxcMy86rrKhBLDdqCh\",\"response\":{"
      "\"object\":\"realtime.response\",\"id\":\"resp_CCXHw0UJld10EzIUXQCNh\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[{"
      "\"id\":\"item_CCXHwGjjDUfOXbiySlK7i\",\"type\":\"message\","
      "\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{"
      "\"type\":\"output_audio\",\"transcript\":\"Loud and clear!\"}]}],"
      "\"conversation_id\":\"conv_CCXHsurMKcaVxIZvaCI5m\","
      "\"output_modalities\":[\"audio\"],\"max_output_tokens\":\"inf\","
      "\"audio\":{\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
      "\"voice\":\"alloy\"}},\"usage\":{\"total_tokens\":253,\"input_tokens\":132,"
      "\"output_tokens\":121,\"input_token_details\":{\"text_tokens\":119,"
      "\"audio_tokens\":13,\"image_tokens\":0,\"cached_tokens\":64},"
      "\"output_token_details\":{\"text_tokens\":30,\"audio_tokens\":91}},"
      "\"metadata\":null}}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_RESPONSE_DONE);
  fail_unless_equals_string (ev->response_id, "resp_CCXHw0UJld10EzIUXQCNh");
  fail_unless_equals_string (ev->status, "completed");
  fail_unless (ev->reason == NULL);
  fail_unless_equals_int64 (ev->input_tokens, 132);
  fail_unless_equals_int64 (ev->output_tokens, 121);
  fail_unless_equals_int64 (ev->total_tokens, 253);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"type\":\"response.done\","
      "\"event_id\":\"e\",\"response\":{\"id\":\"resp_2\",\"status\":\"cancelled\","
      "\"status_details\":{\"type\":\"cancelled\",\"reason\":\"turn_detected\"},"
      "\"output\":[],\"usage\":null}}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_RESPONSE_DONE);
  fail_unless_equals_string (ev->reason, "turn_detected");
  fail_unless_equals_int64 (ev->total_tokens, -1);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"event_id\":\"event_890\",\"type\":"
      "\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":"
      "\"invalid_event\",\"message\":\"The 'type' field is missing.\","
      "\"param\":null,\"event_id\":\"event_567\"}}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_ERROR);
  fail_unless_equals_string (ev->error_type, "invalid_request_error");
  fail_unless_equals_string (ev->error_code, "invalid_event");
  fail_unless_equals_string (ev->error_message, "The 'type' field is missing.");
  fail_unless (ev->error_param == NULL);
  fail_unless_equals_string (ev->error_event_id, "event_567");
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"event_id\":\"event_5\",\"type\":"
      "\"rate_limits.updated\",\"rate_limits\":[{\"name\":\"requests\","
      "\"limit\":1000,\"remaining\":999,\"reset_seconds\":60}]}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_RATE_LIMITS_UPDATED);
  fail_unless (strstr (ev->rate_limits_json, "\"remaining\":999") != NULL);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"event_id\":\"e6\",\"type\":"
      "\"conversation.item.input_audio_transcription.delta\",\"item_id\":"
      "\"item_003\",\"content_index\":0,\"delta\":\"Hello,\","
      "\"obfuscation\":\"aLxx0jTEciOGe\"}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_TRANSCRIPTION_DELTA);
  fail_unless_equals_string (ev->delta, "Hello,");
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"type\":\"conversation.item.added\","
      "\"event_id\":\"e7\",\"previous_item_id\":null,\"item\":{\"id\":\"item_1\","
      "\"type\":\"message\",\"status\":\"completed\",\"role\":\"user\","
      "\"content\":[{\"type\":\"input_audio\",\"transcript\":null}]}}", -1,
      NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_ITEM_ADDED);
  fail_unless_equals_string (ev->item_id, "item_1");
  fail_unless (ev->item.has_audio);
  fail_unless (ev->item.text == NULL);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"type\":"
      "\"response.function_call_arguments.done\",\"event_id\":\"e8\","
      "\"response_id\":\"resp_1\",\"item_id\":\"fc_1\",\"output_index\":0,"
      "\"call_id\":\"call_abc\",\"name\":\"get_weather\",\"arguments\":"
      "\"{\\\"city\\\":\\\"Paris\\\"}\"}", -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE);
  fail_unless_equals_string (ev->name, "get_weather");
  fail_unless_equals_string (ev->call_id, "call_abc");
  fail_unless_equals_string (ev->arguments, "{\"city\":\"Paris\"}");
  realtime_server_event_free (ev);
}

GST_END_TEST;

GST_START_TEST (test_server_events_roundtrip)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  const guint8 audio[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  gchar *json;
  RealtimeServerEvent *ev;
  gsize size;
  const guint8 *data;

  config->input_format = REALTIME_AUDIO_FORMAT_PCMU;
  config->output_format = REALTIME_AUDIO_FORMAT_PCMU;
  config->voice = g_strdup ("cedar");
  config->model = g_strdup ("gpt-realtime");
  json = realtime_build_session_updated ("sess_1", config, 1700000000);
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_SESSION_UPDATED);
  fail_unless (ev->event_id != NULL);
  fail_unless_equals_string (ev->session_id, "sess_1");
  fail_unless_equals_string (ev->session->model, "gpt-realtime");
  fail_unless_equals_int (ev->session->input_format,
      REALTIME_AUDIO_FORMAT_PCMU);
  fail_unless_equals_string (ev->session->voice, "cedar");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_output_audio_delta ("resp_1", "item_1", audio,
      sizeof (audio));
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_OUTPUT_AUDIO_DELTA);
  fail_unless_equals_string (ev->response_id, "resp_1");
  fail_unless_equals_string (ev->item_id, "item_1");
  data = g_bytes_get_data (ev->audio, &size);
  fail_unless_equals_int (size, sizeof (audio));
  fail_unless (memcmp (data, audio, size) == 0);
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_response_done ("resp_1", "cancelled",
      "turn_detected", 10, 20);
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_RESPONSE_DONE);
  fail_unless_equals_string (ev->status, "cancelled");
  fail_unless_equals_string (ev->reason, "turn_detected");
  fail_unless_equals_int64 (ev->total_tokens, 30);
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_error ("invalid_request_error", "invalid_api_key",
      "Incorrect API key provided", NULL, NULL);
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_ERROR);
  fail_unless_equals_string (ev->error_code, "invalid_api_key");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_function_call_arguments_done ("resp_1", "item_2",
      "call_7", "lookup", "{}");
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE);
  fail_unless_equals_string (ev->call_id, "call_7");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_output_item_done ("resp_1", 0, "item_1", "Hi there");
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_OUTPUT_ITEM_DONE);
  fail_unless_equals_string (ev->item.text, "Hi there");
  fail_unless_equals_string (ev->item.role, "assistant");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_transcription_completed ("item_u", "hello");
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_TRANSCRIPTION_COMPLETED);
  fail_unless_equals_string (ev->transcript, "hello");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_output_audio_transcript_done ("r", "i", "done text");
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DONE);
  fail_unless_equals_string (ev->transcript, "done text");
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_rate_limits_updated (100, 99, 5000, 4000);
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_RATE_LIMITS_UPDATED);
  realtime_server_event_free (ev);
  g_free (json);

  json = realtime_build_speech_started (120, "item_s");
  ev = realtime_server_event_parse (json, -1, NULL);
  fail_unless (ev && ev->type == REALTIME_SERVER_SPEECH_STARTED);
  fail_unless_equals_int64 (ev->audio_start_ms, 120);
  realtime_server_event_free (ev);
  g_free (json);
}

GST_END_TEST;

GST_START_TEST (test_unknown_event)
{
  RealtimeServerEvent *ev;
  RealtimeClientEvent *cev;

  ev = realtime_server_event_parse
      ("{\"type\":\"response.mcp_call.in_progress\",\"event_id\":\"e\","
      "\"output_index\":0,\"item_id\":\"x\"}", -1, NULL);
  fail_unless (ev != NULL);
  fail_unless_equals_int (ev->type, REALTIME_SERVER_UNKNOWN);
  fail_unless_equals_string (ev->type_name, "response.mcp_call.in_progress");
  realtime_server_event_free (ev);

  cev = realtime_client_event_parse ("{\"type\":\"something.new\"}", -1, NULL);
  fail_unless (cev != NULL);
  fail_unless_equals_int (cev->type, REALTIME_CLIENT_UNKNOWN);
  fail_unless_equals_string (cev->type_name, "something.new");
  realtime_client_event_free (cev);
}

GST_END_TEST;

static void
expect_server_error (const gchar * json, gssize length, gint code)
{
  GError *error = NULL;
  RealtimeServerEvent *ev = realtime_server_event_parse (json, length,
      &error);

  fail_unless (ev == NULL, "accepted: %s", json);
  fail_unless (error != NULL);
  fail_unless (error->domain == REALTIME_PROTOCOL_ERROR);
  fail_unless_equals_int (error->code, code);
  fail_unless (error->message && *error->message);
  g_error_free (error);
}

GST_START_TEST (test_broken_input)
{
  const gchar binary[] = { 0x00, (gchar) 0xff, 0x10, 0x7b };

  expect_server_error ("", 0, REALTIME_PROTOCOL_ERROR_SYNTAX);
  expect_server_error ("{\"type\":", -1, REALTIME_PROTOCOL_ERROR_SYNTAX);
  expect_server_error ("not json at all", -1, REALTIME_PROTOCOL_ERROR_SYNTAX);
  expect_server_error (binary, sizeof (binary), REALTIME_PROTOCOL_ERROR_SYNTAX);
  expect_server_error ("[1,2,3]", -1, REALTIME_PROTOCOL_ERROR_NOT_OBJECT);
  expect_server_error ("42", -1, REALTIME_PROTOCOL_ERROR_NOT_OBJECT);
  expect_server_error ("{\"event_id\":\"e\"}", -1,
      REALTIME_PROTOCOL_ERROR_NOT_OBJECT);
  expect_server_error ("{\"type\":17}", -1, REALTIME_PROTOCOL_ERROR_NOT_OBJECT);
  /* wrong types of fields */
  expect_server_error ("{\"type\":\"input_audio_buffer.speech_started\","
      "\"audio_start_ms\":\"soon\",\"item_id\":\"i\"}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"input_audio_buffer.speech_started\","
      "\"audio_start_ms\":1.5,\"item_id\":\"i\"}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":42}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"response.done\",\"response\":\"x\"}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"session.updated\"}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"error\",\"error\":{\"type\":\"x\"}}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  expect_server_error ("{\"type\":\"rate_limits.updated\",\"rate_limits\":{}}",
      -1, REALTIME_PROTOCOL_ERROR_INVALID);
  /* missing required field */
  expect_server_error ("{\"type\":\"response.function_call_arguments.done\","
      "\"call_id\":\"c\",\"arguments\":\"{}\"}", -1,
      REALTIME_PROTOCOL_ERROR_INVALID);
  /* bad base64 */
  expect_server_error ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"!!notbase64!!\"}",
      -1, REALTIME_PROTOCOL_ERROR_BASE64);
  expect_server_error ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"AAA\"}",
      -1, REALTIME_PROTOCOL_ERROR_BASE64);
  expect_server_error ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"AA==AAAA\"}",
      -1, REALTIME_PROTOCOL_ERROR_BASE64);
  /* client side too */
  fail_unless (realtime_client_event_parse
      ("{\"type\":\"input_audio_buffer.append\",\"audio\":\"@@@@\"}", -1,
          NULL) == NULL);
  fail_unless (realtime_client_event_parse
      ("{\"type\":\"conversation.item.truncate\",\"item_id\":\"i\"}", -1,
          NULL) == NULL);
  fail_unless (realtime_client_event_parse
      ("{\"type\":\"session.update\",\"session\":[]}", -1, NULL) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_base64_validation)
{
  RealtimeServerEvent *ev;

  /* empty audio is valid (0 bytes) */
  ev = realtime_server_event_parse ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"\"}", -1, NULL);
  fail_unless (ev != NULL);
  fail_unless_equals_int (g_bytes_get_size (ev->audio), 0);
  realtime_server_event_free (ev);

  ev = realtime_server_event_parse ("{\"type\":\"response.output_audio.delta\","
      "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"AQI=\"}", -1, NULL);
  fail_unless (ev != NULL);
  fail_unless_equals_int (g_bytes_get_size (ev->audio), 2);
  realtime_server_event_free (ev);
}

GST_END_TEST;

GST_START_TEST (test_audio_formats)
{
  fail_unless_equals_string (realtime_audio_format_to_string
      (REALTIME_AUDIO_FORMAT_PCM16), "audio/pcm");
  fail_unless_equals_string (realtime_audio_format_to_string
      (REALTIME_AUDIO_FORMAT_PCMU), "audio/pcmu");
  fail_unless_equals_string (realtime_audio_format_to_string
      (REALTIME_AUDIO_FORMAT_PCMA), "audio/pcma");
  fail_unless (realtime_audio_format_to_string
      (REALTIME_AUDIO_FORMAT_UNSET) == NULL);
  fail_unless_equals_int (realtime_audio_format_bytes_per_ms
      (REALTIME_AUDIO_FORMAT_PCM16), 48);
  fail_unless_equals_int (realtime_audio_format_bytes_per_ms
      (REALTIME_AUDIO_FORMAT_PCMU), 8);
}

GST_END_TEST;

static Suite *
realtimeprotocol_suite (void)
{
  Suite *s = suite_create ("realtimeprotocol");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_session_update_defaults);
  tcase_add_test (tc, test_session_update_full_roundtrip);
  tcase_add_test (tc, test_session_update_turn_detection_variants);
  tcase_add_test (tc, test_session_config_invalid_json);
  tcase_add_test (tc, test_client_events_roundtrip);
  tcase_add_test (tc, test_parse_real_server_events);
  tcase_add_test (tc, test_server_events_roundtrip);
  tcase_add_test (tc, test_unknown_event);
  tcase_add_test (tc, test_broken_input);
  tcase_add_test (tc, test_base64_validation);
  tcase_add_test (tc, test_audio_formats);
  return s;
}

GST_CHECK_MAIN (realtimeprotocol);
