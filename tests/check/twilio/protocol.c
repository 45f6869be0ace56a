/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the pure Twilio Media Streams protocol code: every message of
 * the reference capture file, tolerant parsing, broken input, exact building
 * and the X-Twilio-Signature vectors.
 */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "twilioprotocol.h"

#define MZ "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define AC "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define CA "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"

static gchar *
reference_path (void)
{
  const gchar *root = g_getenv ("SOURCE_ROOT");

  fail_unless (root != NULL, "SOURCE_ROOT is not set");
  return g_build_filename (root, "tests", "check", "twilio",
      "twilio-messages.jsonl", NULL);
}

/* Messages whose docs example payload is abbreviated ("..."), hence not
 * base64, and the documented negative example. */
static const struct
{
  const gchar *id;
  gint code;
} expected_failures[] = {
  {"docs-media-outbound-track", TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"docs-media-inbound-track", TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"docs-send-media", TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"openai-agents-js-media", TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"bug-mark-without-name", TWILIO_PROTOCOL_ERROR_MISSING_FIELD},
};

/* Messages whose key order differs from the docs (builder output). */
static const gchar *not_in_docs_order[] = {
  "real-stop", "real-start-no-customParameters-key", NULL
};

static gint
expected_failure (const gchar * id)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (expected_failures); i++)
    if (g_str_equal (expected_failures[i].id, id))
      return expected_failures[i].code;
  return -1;
}

static void
check_reference_specifics (const gchar * id, const TwilioMessage * m)
{
  if (g_str_equal (id, "docs-start")) {
    fail_unless_equals_string (m->account_sid, AC);
    fail_unless_equals_string (m->call_sid, CA);
    fail_unless_equals_string (m->stream_sid, MZ);
    fail_unless (m->has_sequence_number && m->sequence_number == 1);
    fail_unless_equals_int (g_strv_length (m->tracks), 1);
    fail_unless_equals_string (m->tracks[0], "inbound");
    fail_unless (m->has_media_format);
    fail_unless_equals_string (m->encoding, "audio/x-mulaw");
    fail_unless_equals_int (m->sample_rate, 8000);
    fail_unless_equals_int (m->channels, 1);
    fail_unless_equals_int (g_strv_length (m->custom_parameter_names), 3);
    fail_unless_equals_string (m->custom_parameter_names[0], "FirstName");
    fail_unless_equals_string (m->custom_parameter_values[0], "Jane");
    fail_unless_equals_string (m->custom_parameter_names[2], "RemoteParty");
    fail_unless_equals_string (m->custom_parameter_values[2], "Bob");
    fail_unless (twilio_message_check_media_format (m, NULL));
  } else if (g_str_equal (id, "real-media-first")) {
    fail_unless_equals_int (m->sequence_number, 2);
    fail_unless (m->has_chunk && m->chunk == 1);
    fail_unless (m->has_timestamp && m->timestamp_ms == 155);
    fail_unless_equals_string (m->track, "inbound");
    fail_unless_equals_int (g_bytes_get_size (m->payload), 160);
  } else if (g_str_equal (id, "real-media-73")) {
    fail_unless_equals_int (m->chunk, 73);
    fail_unless_equals_int (m->timestamp_ms, 1593);
    fail_unless_equals_int (g_bytes_get_size (m->payload), 160);
  } else if (g_str_equal (id, "gen-media-silence-20ms")) {
    gsize size, i;
    const guint8 *data = g_bytes_get_data (m->payload, &size);

    fail_unless_equals_int (size, 160);
    for (i = 0; i < size; i++)
      fail_unless_equals_int (data[i], 0xFF);
  } else if (g_str_equal (id, "docs-dtmf")) {
    fail_unless_equals_string (m->digit, "1");
    fail_unless_equals_string (m->track, "inbound_track");
    fail_unless_equals_int (m->sequence_number, 5);
  } else if (g_str_equal (id, "real-stop")) {
    fail_unless_equals_string (m->account_sid,
        "AC00000000000000000000000000000001");
    fail_unless_equals_string (m->call_sid,
        "CA00000000000000000000000000000003");
    fail_unless_equals_int (m->sequence_number, 378);
  } else if (g_str_equal (id, "real-start-no-customParameters-key")
      || g_str_equal (id, "real-start-empty-params")) {
    fail_unless (m->custom_parameter_names != NULL);
    fail_unless_equals_int (g_strv_length (m->custom_parameter_names), 0);
  } else if (g_str_equal (id, "twilio-connect-basic-repeat")) {
    fail_unless_equals_string (m->mark_name, "Repeat message 0");
  } else if (g_str_equal (id, "docs-connected")) {
    fail_unless_equals_string (m->protocol, "Call");
    fail_unless_equals_string (m->version, "1.0.0");
    fail_unless (m->stream_sid == NULL);
  }
}

GST_START_TEST (test_reference_messages)
{
  g_autofree gchar *path = reference_path ();
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GError *error = NULL;
  guint i, n_parsed = 0, n_failed = 0, n_exact = 0;

  fail_unless (g_file_get_contents (path, &contents, NULL, &error),
      "cannot read %s: %s", path, error ? error->message : "");
  lines = g_strsplit (contents, "\n", -1);

  for (i = 0; lines[i]; i++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (TwilioMessage) m = NULL;
    JsonObject *entry;
    const gchar *id, *raw, *direction, *event;
    TwilioParseFlags flags;
    gint code;

    if (*g_strstrip (lines[i]) == '\0')
      continue;
    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL));
    entry = json_node_get_object (json_parser_get_root (parser));
    id = json_object_get_string_member (entry, "id");
    raw = json_object_get_string_member (entry, "raw");
    direction = json_object_get_string_member (entry, "direction");
    event = json_object_get_string_member (entry, "event");
    flags = g_str_equal (direction, "server->twilio") ?
        TWILIO_PARSE_TO_TWILIO : TWILIO_PARSE_FROM_TWILIO;

    m = twilio_message_parse (raw, -1, flags, &error);
    code = expected_failure (id);
    if (code >= 0) {
      fail_unless (m == NULL, "%s: parsed although it is broken", id);
      fail_unless (g_error_matches (error, TWILIO_PROTOCOL_ERROR, code),
          "%s: wrong error: %s", id, error ? error->message : "none");
      g_clear_error (&error);
      n_failed++;
      continue;
    }
    fail_unless (m != NULL, "%s: %s", id, error ? error->message : "");
    fail_unless_equals_string (twilio_event_to_string (m->event), event);
    check_reference_specifics (id, m);
    n_parsed++;

    /* Building gives back the exact documented text. */
    {
      g_autofree gchar *built = twilio_message_to_json (m);
      g_autoptr (TwilioMessage) again = NULL;
      g_autofree gchar *rebuilt = NULL;

      if (!g_strv_contains (not_in_docs_order, id)) {
        fail_unless_equals_string (built, raw);
        n_exact++;
      }
      again = twilio_message_parse (built, -1, flags, &error);
      fail_unless (again != NULL, "%s: rebuilt: %s", id,
          error ? error->message : "");
      rebuilt = twilio_message_to_json (again);
      fail_unless_equals_string (rebuilt, built);
    }
  }
  fail_unless_equals_int (n_parsed + n_failed, 25);
  fail_unless_equals_int (n_failed, G_N_ELEMENTS (expected_failures));
  fail_unless_equals_int (n_exact, n_parsed - 2);
}

GST_END_TEST;

GST_START_TEST (test_tolerant_parsing)
{
  GError *error = NULL;
  g_autoptr (TwilioMessage) start = NULL;
  g_autoptr (TwilioMessage) media = NULL;
  g_autoptr (TwilioMessage) stop = NULL;
  g_autoptr (TwilioMessage) connected = NULL;

  /* Keys shuffled, numbers as strings and counters as numbers, no
   * top-level streamSid, no customParameters. */
  start =
      twilio_message_parse ("{\"start\":{\"mediaFormat\":{\"channels\":\"1\","
      "\"sampleRate\":\"8000\",\"encoding\":\"audio/x-mulaw\"},"
      "\"streamSid\":\"MZ1\",\"callSid\":\"CA1\"},\"sequenceNumber\":1,"
      "\"event\":\"start\"}", -1, 0, &error);
  fail_unless (start != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (start->stream_sid, "MZ1");
  fail_unless (start->account_sid == NULL);
  fail_unless_equals_int (start->sample_rate, 8000);
  fail_unless_equals_int (start->channels, 1);
  fail_unless_equals_int (g_strv_length (start->tracks), 0);
  fail_unless_equals_int (g_strv_length (start->custom_parameter_names), 0);
  fail_unless (twilio_message_check_media_format (start, NULL));

  media = twilio_message_parse ("{\"media\":{\"payload\":\"//9/fw==\","
      "\"timestamp\":40},\"event\":\"media\"}", -1, 0, &error);
  fail_unless (media != NULL, "%s", error ? error->message : "");
  fail_unless (media->has_timestamp && media->timestamp_ms == 40);
  fail_unless (!media->has_chunk);
  fail_unless (!media->has_sequence_number);
  fail_unless_equals_int (g_bytes_get_size (media->payload), 4);

  stop = twilio_message_parse ("{\"event\":\"stop\",\"streamSid\":\"MZ1\"}",
      -1, 0, &error);
  fail_unless (stop != NULL, "%s", error ? error->message : "");
  fail_unless (stop->call_sid == NULL);

  connected = twilio_message_parse ("{\"event\":\"connected\"}", -1, 0, &error);
  fail_unless (connected != NULL);

  /* Non-string custom parameter values are kept as JSON text. */
  {
    g_autoptr (TwilioMessage) m =
        twilio_message_parse ("{\"event\":\"start\",\"streamSid\":\"MZ1\","
        "\"start\":{\"customParameters\":{\"n\":5,\"s\":\"x\"}}}", -1, 0,
        &error);
    fail_unless (m != NULL);
    fail_unless_equals_string (m->custom_parameter_values[0], "5");
    fail_unless_equals_string (m->custom_parameter_values[1], "x");
  }
}

GST_END_TEST;

static const struct
{
  const gchar *json;
  TwilioParseFlags flags;
  gint code;
  const gchar *mentions;        /* what the error message must name */
} broken[] = {
  {"", 0, TWILIO_PROTOCOL_ERROR_MALFORMED, "JSON"},
  {"not json", 0, TWILIO_PROTOCOL_ERROR_MALFORMED, "JSON"},
  {"{\"event\":\"media\"", 0, TWILIO_PROTOCOL_ERROR_MALFORMED, "JSON"},
  {"[1,2]", 0, TWILIO_PROTOCOL_ERROR_MALFORMED, "object"},
  {"\"media\"", 0, TWILIO_PROTOCOL_ERROR_MALFORMED, "object"},
  {"{}", 0, TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "event"},
  {"{\"event\":42}", 0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "event"},
  {"{\"event\":\"bogus\"}", 0, TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT, "bogus"},
  {"{\"event\":\"clear\",\"streamSid\":\"MZ1\"}", 0,
      TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT, "clear"},
  {"{\"event\":\"start\",\"start\":{}}", TWILIO_PARSE_TO_TWILIO,
      TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT, "start"},
  {"{\"event\":\"start\"}", 0, TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "start"},
  {"{\"event\":\"start\",\"start\":[]}", 0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE,
      "start"},
  {"{\"event\":\"start\",\"start\":{\"callSid\":\"CA\"}}", 0,
      TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "streamSid"},
  {"{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\",\"tracks\":\"in\"}}",
      0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "tracks"},
  {"{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\",\"tracks\":[1]}}",
      0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "tracks"},
  {"{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\",\"mediaFormat\":"
        "{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":\"fast\","
        "\"channels\":1}}}", 0, TWILIO_PROTOCOL_ERROR_BAD_NUMBER,
      "sampleRate"},
  {"{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\","
        "\"customParameters\":[]}}", 0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE,
      "customParameters"},
  {"{\"event\":\"media\"}", 0, TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "media"},
  {"{\"event\":\"media\",\"media\":\"x\"}", 0,
      TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "media"},
  {"{\"event\":\"media\",\"media\":{}}", 0,
      TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "payload"},
  {"{\"event\":\"media\",\"media\":{\"payload\":42}}", 0,
      TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "payload"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"@@@@\"}}", 0,
      TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD, "payload"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"abc\"}}", 0,
      TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD, "payload"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"a=bc\"}}", 0,
      TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD, "payload"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"//8=\",\"timestamp\":"
        "\"12a\"}}", 0, TWILIO_PROTOCOL_ERROR_BAD_NUMBER, "timestamp"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"//8=\",\"timestamp\":-5}}",
      0, TWILIO_PROTOCOL_ERROR_BAD_NUMBER, "timestamp"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"//8=\",\"timestamp\":"
        "true}}", 0, TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "timestamp"},
  {"{\"event\":\"media\",\"media\":{\"payload\":\"//8=\",\"chunk\":1.5}}", 0,
      TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "chunk"},
  {"{\"event\":\"media\",\"sequenceNumber\":\"x\",\"media\":{\"payload\":"
        "\"//8=\"}}", 0, TWILIO_PROTOCOL_ERROR_BAD_NUMBER, "sequenceNumber"},
  {"{\"event\":\"dtmf\",\"dtmf\":{\"track\":\"inbound_track\"}}", 0,
      TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "digit"},
  {"{\"event\":\"mark\",\"mark\":{\"name\":7}}", 0,
      TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "name"},
  {"{\"event\":\"stop\",\"stop\":\"now\"}", 0,
      TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "stop"},
  {"{\"event\":\"mark\",\"streamSid\":\"MZ\",\"mark\":{\"name\":\"a\"},"
        "\"extra\":1}", TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT,
      TWILIO_PROTOCOL_ERROR_EXTRA_FIELD, "extra"},
  {"{\"event\":\"clear\"}", TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT,
      TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "streamSid"},
  {"{\"event\":\"media\",\"streamSid\":\"MZ\",\"media\":{\"payload\":\"\","
        "\"track\":\"x\"}}", TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT,
      TWILIO_PROTOCOL_ERROR_EXTRA_FIELD, "track"},
  {"{\"event\":\"media\",\"sequenceNumber\":\"2\",\"streamSid\":\"MZ\","
        "\"media\":{\"payload\":\"//8=\",\"track\":\"inbound\","
        "\"chunk\":\"1\"}}", TWILIO_PARSE_STRICT,
      TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "timestamp"},
};

GST_START_TEST (test_broken_messages)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (broken); i++) {
    GError *error = NULL;
    TwilioMessage *m = twilio_message_parse (broken[i].json, -1,
        broken[i].flags, &error);

    fail_unless (m == NULL, "case %u parsed: %s", i, broken[i].json);
    fail_unless (g_error_matches (error, TWILIO_PROTOCOL_ERROR,
            broken[i].code), "case %u (%s): got %s (%d)", i, broken[i].json,
        error->message, error->code);
    fail_unless (strstr (error->message, broken[i].mentions) != NULL,
        "case %u: \"%s\" does not name %s", i, error->message,
        broken[i].mentions);
    g_clear_error (&error);
  }
}

GST_END_TEST;

/* Random bytes and truncations of real messages never crash the parser. */
GST_START_TEST (test_garbage_never_crashes)
{
  const gchar *seed = "{\"event\":\"start\",\"sequenceNumber\":\"1\","
      "\"start\":{\"accountSid\":\"AC\",\"streamSid\":\"MZ\",\"callSid\":"
      "\"CA\",\"tracks\":[\"inbound\"],\"mediaFormat\":{\"encoding\":"
      "\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1},"
      "\"customParameters\":{\"a\":\"b\"}},\"streamSid\":\"MZ\"}";
  gsize len = strlen (seed), cut;
  GRand *rand = g_rand_new_with_seed (3);
  guint round;

  for (cut = 0; cut < len; cut++) {
    GError *error = NULL;
    TwilioMessage *m = twilio_message_parse (seed, cut, 0, &error);

    fail_unless (m == NULL && error != NULL);
    g_clear_error (&error);
  }
  for (round = 0; round < 2000; round++) {
    gchar *mutated = g_strdup (seed);
    GError *error = NULL;
    TwilioMessage *m;
    guint k;

    for (k = 0; k < 3; k++)
      mutated[g_rand_int_range (rand, 0, len)] =
          (gchar) g_rand_int_range (rand, 1, 256);
    m = twilio_message_parse (mutated, len, 0, &error);
    fail_unless ((m == NULL) != (error == NULL));
    twilio_message_free (m);
    g_clear_error (&error);
    g_free (mutated);
  }
  g_rand_free (rand);
}

GST_END_TEST;

GST_START_TEST (test_media_format_check)
{
  static const gchar *formats[][2] = {
    {"\"encoding\":\"audio/x-alaw\",\"sampleRate\":8000,\"channels\":1",
        "audio/x-alaw"},
    {"\"encoding\":\"audio/x-mulaw\",\"sampleRate\":16000,\"channels\":1",
        "16000"},
    {"\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":2",
        "2 channel"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_autofree gchar *json =
        g_strdup_printf ("{\"event\":\"start\",\"streamSid\":\"MZ\","
        "\"start\":{\"streamSid\":\"MZ\",\"mediaFormat\":{%s}}}",
        formats[i][0]);
    g_autoptr (TwilioMessage) m = twilio_message_parse (json, -1, 0, NULL);
    GError *error = NULL;

    fail_unless (m != NULL);
    fail_if (twilio_message_check_media_format (m, &error));
    fail_unless (g_error_matches (error, TWILIO_PROTOCOL_ERROR,
            TWILIO_PROTOCOL_ERROR_UNSUPPORTED_FORMAT));
    fail_unless (strstr (error->message, formats[i][1]) != NULL, "%s",
        error->message);
    g_clear_error (&error);
  }
}

GST_END_TEST;

GST_START_TEST (test_build_exact)
{
  guint8 silence[160];
  const gchar *names[] = { "FirstName", "LastName", "RemoteParty", NULL };
  const gchar *values[] = { "Jane", "Doe", "Bob", NULL };
  const gchar *tracks[] = { "inbound", NULL };
  gchar *s;

  memset (silence, 0xFF, sizeof (silence));

  s = twilio_build_mark (MZ, "my label");
  fail_unless_equals_string (s, "{\"event\":\"mark\",\"streamSid\":\"" MZ
      "\",\"mark\":{\"name\":\"my label\"}}");
  g_free (s);
  s = twilio_build_clear (MZ);
  fail_unless_equals_string (s,
      "{\"event\":\"clear\",\"streamSid\":\"" MZ "\"}");
  g_free (s);
  s = twilio_build_media (MZ, (const guint8 *) "\x00\x01\xfe\xff", 4);
  fail_unless_equals_string (s, "{\"event\":\"media\",\"streamSid\":\"" MZ
      "\",\"media\":{\"payload\":\"AAH+/w==\"}}");
  g_free (s);

  s = twilio_build_connected ();
  fail_unless_equals_string (s,
      "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
  g_free (s);
  s = twilio_build_start (1, AC, MZ, CA, tracks, names, values);
  fail_unless_equals_string (s, "{\"event\":\"start\",\"sequenceNumber\":\"1\","
      "\"start\":{\"accountSid\":\"" AC "\",\"streamSid\":\"" MZ
      "\",\"callSid\":\"" CA "\",\"tracks\":[\"inbound\"],\"mediaFormat\":"
      "{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1},"
      "\"customParameters\":{\"FirstName\":\"Jane\",\"LastName\":\"Doe\","
      "\"RemoteParty\":\"Bob\"}},\"streamSid\":\"" MZ "\"}");
  g_free (s);
  s = twilio_build_start (1, "AC1", "MZ1", "CA1", NULL, NULL, NULL);
  fail_unless (strstr (s, "\"tracks\":[\"inbound\"]") != NULL);
  fail_unless (strstr (s, "\"customParameters\":{}") != NULL);
  g_free (s);
  s = twilio_build_inbound_media (2, "MZ00000000000000000000000000000002",
      "inbound", 1, 20, silence, sizeof (silence));
  fail_unless_equals_string (s, "{\"event\":\"media\",\"sequenceNumber\":\"2\","
      "\"media\":{\"track\":\"inbound\",\"chunk\":\"1\",\"timestamp\":\"20\","
      "\"payload\":\"////////////////////////////////////////////////////////////"
      "////////////////////////////////////////////////////////////"
      "////////////////////////////////////////////////////////////"
      "/////////////////////////////////w==\"},\"streamSid\":\"MZ00000000000000000000000000000002\"}");
  g_free (s);
  s = twilio_build_dtmf (5, MZ, "1");
  fail_unless_equals_string (s, "{\"event\":\"dtmf\",\"streamSid\":\"" MZ
      "\",\"sequenceNumber\":\"5\",\"dtmf\":{\"track\":\"inbound_track\","
      "\"digit\":\"1\"}}");
  g_free (s);
  s = twilio_build_mark_echo (4, MZ, "my label");
  fail_unless_equals_string (s, "{\"event\":\"mark\",\"sequenceNumber\":\"4\","
      "\"streamSid\":\"" MZ "\",\"mark\":{\"name\":\"my label\"}}");
  g_free (s);
  s = twilio_build_stop (5, MZ, AC, CA);
  fail_unless_equals_string (s, "{\"event\":\"stop\",\"sequenceNumber\":\"5\","
      "\"stop\":{\"accountSid\":\"" AC "\",\"callSid\":\"" CA "\"},"
      "\"streamSid\":\"" MZ "\"}");
  g_free (s);

  /* Strings that need escaping survive a round trip. */
  s = twilio_build_mark (MZ, "quote\" back\\ nl\n é");
  {
    g_autoptr (TwilioMessage) m = twilio_message_parse (s, -1,
        TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT, NULL);
    fail_unless (m != NULL);
    fail_unless_equals_string (m->mark_name, "quote\" back\\ nl\n é");
  }
  g_free (s);
}

GST_END_TEST;

GST_START_TEST (test_base64_strict)
{
  GError *error = NULL;
  GBytes *bytes;

  bytes = twilio_base64_decode ("", 0, &error);
  fail_unless (bytes && g_bytes_get_size (bytes) == 0);
  g_bytes_unref (bytes);
  bytes = twilio_base64_decode ("AAH+/w==", 8, &error);
  fail_unless (bytes && g_bytes_get_size (bytes) == 4);
  fail_unless (memcmp (g_bytes_get_data (bytes, NULL), "\x00\x01\xfe\xff",
          4) == 0);
  g_bytes_unref (bytes);
  fail_unless (twilio_base64_decode ("AAH", 3, &error) == NULL);
  g_clear_error (&error);
  fail_unless (twilio_base64_decode ("AA=A", 4, &error) == NULL);
  g_clear_error (&error);
  fail_unless (twilio_base64_decode ("A===", 4, &error) == NULL);
  g_clear_error (&error);
  fail_unless (twilio_base64_decode ("AA A", 4, &error) == NULL);
  g_clear_error (&error);
  fail_unless (twilio_base64_decode ("AA-_", 4, &error) == NULL);
  fail_unless (g_error_matches (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD));
  g_clear_error (&error);
}

GST_END_TEST;

static gboolean
valid (const gchar * token, const gchar * sig, const gchar * url)
{
  return twilio_signature_validate (token, sig, url, NULL, 0);
}

GST_START_TEST (test_signature_vectors)
{
  /* Twilio's worked example (docs security page). */
  const TwilioParam docs_params[] = {
    {"Digits", "1234"}, {"To", "+18005551212"}, {"From", "+14158675310"},
    {"Caller", "+14158675310"}, {"CallSid", "CA1234567890ABCDE"},
  };
  const TwilioParam older_params[] = {
    {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"},
    {"Digits", "1234"}, {"From", "+12349013030"}, {"To", "+18005551212"},
  };
  /* Repeated names (values sorted, exact duplicates once) and UTF-8; the
   * expected value was computed independently with openssl over
   * "https://example.com/hookBxa1a2éü". */
  const TwilioParam repeated[] = {
    {"a", "2"}, {"é", "ü"}, {"a", "1"}, {"B", "x"}, {"a", "2"},
  };
  const gchar *json_body =
      "{\"CallSid\":\"CA1234567890ABCDE\",\"Caller\":\"+12349013030\"}";
  const gchar *json_url = "https://example.com/myapp?bodySHA256="
      "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9";
  gchar *s;

  s = twilio_signature_compute ("12345",
      "https://example.com/myapp.php?foo=1&bar=2", docs_params, 5);
  fail_unless_equals_string (s, "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  g_free (s);
  fail_unless (twilio_signature_validate ("12345",
          "L/OH5YylLD5NRKLltdqwSvS0BnU=",
          "https://example.com/myapp.php?foo=1&bar=2", docs_params, 5));
  fail_if (twilio_signature_validate ("12345", "L/OH5YylLD5NRKLltdqwSvS0BnU=",
          "https://example.com/myapp.php?foo=1&bar=3", docs_params, 5));
  fail_if (twilio_signature_validate ("12345", "L/OH5YylLD5NRKLltdqwSvS0BnU=",
          "https://example.com/myapp.php?foo=1&bar=2", docs_params, 4));
  fail_if (twilio_signature_validate ("54321", "L/OH5YylLD5NRKLltdqwSvS0BnU=",
          "https://example.com/myapp.php?foo=1&bar=2", docs_params, 5));

  s = twilio_signature_compute ("12345",
      "https://mycompany.com/myapp.php?foo=1&bar=2", older_params, 5);
  fail_unless_equals_string (s, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  g_free (s);

  s = twilio_signature_compute ("secret-token", "https://example.com/hook",
      repeated, G_N_ELEMENTS (repeated));
  fail_unless_equals_string (s, "MReTYwEVEIpvMpv4zZQvswlwEXY=");
  g_free (s);

  /* Form tables (as from soup_form_decode). */
  {
    g_autoptr (GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);
    guint i;

    for (i = 0; i < G_N_ELEMENTS (docs_params); i++)
      g_hash_table_insert (form, (gpointer) docs_params[i].name,
          (gpointer) docs_params[i].value);
    s = twilio_signature_compute_form ("12345",
        "https://example.com/myapp.php?foo=1&bar=2", form);
    fail_unless_equals_string (s, "L/OH5YylLD5NRKLltdqwSvS0BnU=");
    g_free (s);
    fail_unless (twilio_signature_validate_form ("12345",
            "L/OH5YylLD5NRKLltdqwSvS0BnU=",
            "https://example.com/myapp.php?foo=1&bar=2", form));
    fail_unless (twilio_signature_validate_form ("12345",
            "+h4zMojKyitua6yCNzw2ElUaaIw=", "http://example.com:8080/voice",
            NULL) == FALSE);
  }

  /* JSON body: URL with bodySHA256, no params. */
  s = twilio_body_sha256 (json_body, strlen (json_body));
  fail_unless_equals_string (s,
      "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9");
  g_free (s);
  s = twilio_signature_compute ("12345", json_url, NULL, 0);
  fail_unless_equals_string (s, "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=");
  g_free (s);
  fail_unless (twilio_signature_validate_with_body ("12345",
          "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=", json_url, json_body,
          strlen (json_body)));
  fail_if (twilio_signature_validate_with_body ("12345",
          "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=", json_url, "{}", 2));
  fail_if (twilio_signature_validate_with_body ("12345",
          "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=", "https://example.com/myapp",
          json_body, strlen (json_body)));

  /* WebSocket upgrade: wss URL, no params (vectors from openssl). */
  s = twilio_signature_compute ("12345", "wss://example.com/call", NULL, 0);
  fail_unless_equals_string (s, "a/usGMoIkMziXZVndi2gWBoHpJ4=");
  g_free (s);
  fail_unless (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com/call"));
  /* Port removed and userinfo dropped. */
  fail_unless (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com:443/call"));
  fail_unless (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://user:pw@example.com/call"));
  /* Twilio's advice: the trailing '/' toggled. */
  fail_unless (valid ("12345", "4EYZkTo1xZMD3QFPc7g8DimU+74=",
          "wss://example.com/call"));
  fail_unless (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com/call/"));
  /* Default port added: signed with :443, received without. */
  fail_unless (valid ("12345", "uJ2k/2ysYiY2+Pun4spJQHHO8kQ=",
          "wss://example.com:8443/call"));
  fail_if (valid ("12345", "uJ2k/2ysYiY2+Pun4spJQHHO8kQ=",
          "wss://example.com/call"));
  /* HTTP keeps an explicit port; the port-less form does not match. */
  {
    const TwilioParam p[] = { {"CallSid", "CA1"} };
    fail_unless (twilio_signature_validate ("12345",
            "+h4zMojKyitua6yCNzw2ElUaaIw=", "http://example.com:8080/voice",
            p, 1));
    fail_if (twilio_signature_validate ("12345",
            "+h4zMojKyitua6yCNzw2ElUaaIw=", "http://example.com/voice", p, 1));
  }
  /* The scheme matters; so do the token and the path. */
  fail_if (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "https://example.com/call"));
  fail_if (valid ("wrong", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com/call"));
  fail_if (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com/calls"));
  fail_if (valid ("12345", "", "wss://example.com/call"));
  fail_if (valid ("12345", NULL, "wss://example.com/call"));
  fail_if (valid ("", "a/usGMoIkMziXZVndi2gWBoHpJ4=",
          "wss://example.com/call"));
  fail_if (valid ("12345", "a/usGMoIkMziXZVndi2gWBoHpJ4",
          "wss://example.com/call"));
}

GST_END_TEST;

GST_START_TEST (test_signature_candidates)
{
  g_autoptr (GPtrArray) c =
      twilio_signature_url_candidates ("WSS://u:p@example.com:443/call?x=1");

  fail_unless_equals_int (c->len, 4);
  fail_unless_equals_string (g_ptr_array_index (c, 0),
      "wss://example.com:443/call?x=1");
  fail_unless_equals_string (g_ptr_array_index (c, 1),
      "wss://example.com/call?x=1");
  fail_unless_equals_string (g_ptr_array_index (c, 2),
      "wss://example.com:443/call/?x=1");
  fail_unless_equals_string (g_ptr_array_index (c, 3),
      "wss://example.com/call/?x=1");
  g_ptr_array_unref (c);

  c = twilio_signature_url_candidates ("ws://[::1]:8081/");
  fail_unless_equals_string (g_ptr_array_index (c, 0), "ws://[::1]:8081/");
  fail_unless_equals_string (g_ptr_array_index (c, 1), "ws://[::1]/");
  fail_unless_equals_string (g_ptr_array_index (c, 2), "ws://[::1]:80/");
  fail_unless_equals_string (g_ptr_array_index (c, 3), "ws://[::1]:8081");
}

GST_END_TEST;

static Suite *
twilio_protocol_suite (void)
{
  Suite *s = suite_create ("twilio_protocol");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_reference_messages);
  tcase_add_test (tc, test_tolerant_parsing);
  tcase_add_test (tc, test_broken_messages);
  tcase_add_test (tc, test_garbage_never_crashes);
  tcase_add_test (tc, test_media_format_check);
  tcase_add_test (tc, test_build_exact);
  tcase_add_test (tc, test_base64_strict);
  tcase_add_test (tc, test_signature_vectors);
  tcase_add_test (tc, test_signature_candidates);
  return s;
}

GST_CHECK_MAIN (twilio_protocol);
