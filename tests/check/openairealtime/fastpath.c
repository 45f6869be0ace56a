/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol's fast paths for the per-frame traffic, checked against the
 * plain ones: the input_audio_buffer.append builder against a JSON tree,
 * the strict base64 decoder against GLib, and the delta scanner
 * (response.output_audio.delta and the four text deltas) against json-glib:
 * fixed accepted and refused cases, every byte in every place, and randomly
 * damaged events. Whatever the scanner accepts must give the json-glib
 * parser's event field by field; whatever it refuses must parse (or fail
 * with the same error) exactly as before.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "realtimeprotocol.h"
#include "realtimeprotocolprivate.h"

/* The append builder writes the same event as a JSON tree would, for any
 * size and any way the audio is split into pieces. */
GST_START_TEST (test_append_builder)
{
  guint8 data[1000];
  gsize size, split, i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) (i * 37 + 11);
  for (size = 0; size < sizeof (data); size = size < 12 ? size + 1 : size * 3) {
    g_autofree gchar *b64 = g_base64_encode (data, size);
    g_autofree gchar *expected =
        g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
        "\"audio\":\"%s\"}", b64);
    g_autofree gchar *whole = realtime_build_input_audio_append (data, size);
    RealtimeClientEvent *ev;

    fail_unless_equals_string (whole, expected);
    ev = realtime_client_event_parse (whole, -1, NULL);
    fail_unless (ev != NULL);
    fail_unless_equals_int (ev->type, REALTIME_CLIENT_INPUT_AUDIO_APPEND);
    fail_unless_equals_int (g_bytes_get_size (ev->audio), size);
    fail_unless (size == 0
        || memcmp (g_bytes_get_data (ev->audio, NULL), data, size) == 0);
    realtime_client_event_free (ev);

    /* in two and in three pieces, split everywhere for small sizes */
    for (split = 0; split <= size; split += size < 12 ? 1 : size / 5 + 1) {
      RealtimeAppendBuilder builder;
      gchar *pieces;

      realtime_append_builder_init (&builder, size);
      realtime_append_builder_add (&builder, data, split / 2);
      realtime_append_builder_add (&builder, data + split / 2,
          split - split / 2);
      realtime_append_builder_add (&builder, data + split, size - split);
      pieces = realtime_append_builder_finish (&builder);
      fail_unless_equals_string (pieces, expected);
      g_free (pieces);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_base64_strict_decoder)
{
  const gchar *invalid[] = { "A", "AB", "ABC", "AB=C", "A===", "====",
    "AA==AAAA", "AAA=AAAA", "AB C", "AB\nC", "AB-_", "AAAA=", "\xc3\xa9\xc3\xa9"
  };
  guint8 data[300];
  gsize size, i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) g_random_int ();
  /* agrees with GLib's encoder for every length and padding */
  for (size = 0; size < sizeof (data); size++) {
    g_autofree gchar *b64 = g_base64_encode (data, size);
    GBytes *decoded = rtp_base64_decode_strict (b64, strlen (b64));

    fail_unless (decoded != NULL, "valid base64 of %" G_GSIZE_FORMAT
        " bytes rejected", size);
    fail_unless_equals_int (g_bytes_get_size (decoded), size);
    fail_unless (size == 0
        || memcmp (g_bytes_get_data (decoded, NULL), data, size) == 0);
    g_bytes_unref (decoded);
  }
  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    fail_unless (rtp_base64_decode_strict (invalid[i],
            strlen (invalid[i])) == NULL, "accepted \"%s\"", invalid[i]);
}

GST_END_TEST;

/* Every field of the struct, so a fast path that fills one differently (or
 * fills one the full parser leaves unset) is caught. */
#define EVENT_STRINGS(X) X (type_name) X (event_id) X (session_id) \
  X (item_id) X (previous_item_id) X (response_id) X (delta) X (transcript) \
  X (item.type_name) X (item.id) X (item.role) X (item.status) \
  X (item.text) X (item.name) X (item.call_id) X (item.arguments) \
  X (item.output) X (name) X (call_id) X (arguments) X (status) X (reason) \
  X (rate_limits_json) X (error_type) X (error_code) X (error_message) \
  X (error_param) X (error_event_id)
#define EVENT_NUMBERS(X) X (type) X (expires_at) X (output_index) \
  X (content_index) X (audio_start_ms) X (audio_end_ms) X (item.type) \
  X (item.has_audio) X (input_tokens) X (output_tokens) X (total_tokens)

#define EQUAL_STRING(field) && g_strcmp0 (a->field, b->field) == 0
#define EQUAL_NUMBER(field) && a->field == b->field
#define SAME_STRING(field) \
  fail_unless (g_strcmp0 (a->field, b->field) == 0, \
      #field " differs: \"%s\" vs \"%s\" in %s", GST_STR_NULL (a->field), \
      GST_STR_NULL (b->field), json);
#define SAME_NUMBER(field) \
  fail_unless (a->field == b->field, #field " differs: %" G_GINT64_FORMAT \
      " vs %" G_GINT64_FORMAT " in %s", (gint64) a->field, \
      (gint64) b->field, json);

static gboolean
same_event (RealtimeServerEvent * a, RealtimeServerEvent * b)
{
  return (a->session == NULL) == (b->session == NULL)
      && ((a->audio == NULL && b->audio == NULL) || (a->audio && b->audio
          && g_bytes_equal (a->audio, b->audio)))
      EVENT_STRINGS (EQUAL_STRING) EVENT_NUMBERS (EQUAL_NUMBER);
}

/* Compares quietly first: each passing check assertion writes to a pipe,
 * too slow for the loops below under the sanitizers. */
static void
assert_same_event (RealtimeServerEvent * a, RealtimeServerEvent * b,
    const gchar * json)
{
  if (same_event (a, b))
    return;
  fail_unless ((a->session == NULL) == (b->session == NULL),
      "session differs: %s", json);
  fail_unless ((a->audio == NULL && b->audio == NULL) || (a->audio && b->audio
          && g_bytes_equal (a->audio, b->audio)), "audio differs: %s", json);
  EVENT_STRINGS (SAME_STRING);
  EVENT_NUMBERS (SAME_NUMBER);
  fail ("events differ: %s", json);
}

/* The public parser answers exactly as the json-glib one: the same event
 * or the same error. */
static void
assert_public_as_tree (const gchar * json, gssize length)
{
  g_autoptr (GError) public_error = NULL;
  g_autoptr (GError) tree_error = NULL;
  RealtimeServerEvent *public, *tree;

  public = realtime_server_event_parse (json, length, &public_error);
  tree = rtp_server_event_parse_tree (json, length, &tree_error);
  fail_unless ((public == NULL) == (tree == NULL), "parsers disagree on %s",
      json);
  if (public)
    assert_same_event (public, tree, json);
  else
    fail_unless_equals_string (public_error->message, tree_error->message);
  realtime_server_event_free (public);
  realtime_server_event_free (tree);
}

/* The fast path takes @json as a @type event equal to json-glib's. */
static void
assert_fast_accepts (const gchar * json, RealtimeServerEventType type)
{
  RealtimeServerEvent *fast = rtp_parse_delta_fast (json, strlen (json));
  RealtimeServerEvent *tree = rtp_server_event_parse_tree (json, -1, NULL);

  fail_unless (fast != NULL, "fast path refused %s", json);
  fail_unless (tree != NULL, "json-glib refused %s", json);
  fail_unless_equals_int (fast->type, type);
  assert_same_event (fast, tree, json);
  realtime_server_event_free (fast);
  realtime_server_event_free (tree);
  assert_public_as_tree (json, -1);
}

/* The fast path leaves @json to json-glib, which answers as before. */
static void
assert_fast_refuses (const gchar * json)
{
  fail_unless (rtp_parse_delta_fast (json, strlen (json)) == NULL,
      "fast path took %s", json);
  assert_public_as_tree (json, -1);
}

/* Whatever the fast path makes of the first @length bytes of @json,
 * json-glib makes the same; returns whether the fast path took it. */
static gboolean
fast_agrees_with_tree (const gchar * json, gsize length)
{
  RealtimeServerEvent *fast = rtp_parse_delta_fast (json, length);
  RealtimeServerEvent *tree;

  if (fast == NULL)
    return FALSE;
  tree = rtp_server_event_parse_tree (json, length, NULL);
  if (tree == NULL)
    fail ("only the fast path accepts %.*s", (int) length, json);
  assert_same_event (fast, tree, json);
  realtime_server_event_free (fast);
  realtime_server_event_free (tree);
  return TRUE;
}

/* Random damage to @base never makes the paths disagree; returns how many
 * damaged texts the fast path still took. */
static guint
damage_against_tree (const gchar * base, GRand * rand, guint rounds)
{
  gsize base_len = strlen (base);
  guint taken = 0, i;

  for (i = 0; i < rounds; i++) {
    gchar *text = g_strdup (base);
    gsize len = base_len;
    guint edits = g_rand_int_range (rand, 1, 4), e;

    for (e = 0; e < edits && len > 0; e++) {
      gsize at = g_rand_int_range (rand, 0, len);
      const gchar interesting[] = "\"{}[],:0 =\\Aa-.e\x80";

      if (g_rand_int_range (rand, 0, 8) == 0)
        len = at;               /* truncate */
      else
        text[at] = interesting[g_rand_int_range (rand, 0,
                sizeof (interesting) - 1)];
    }
    if (fast_agrees_with_tree (text, len))
      taken++;
    g_free (text);
  }
  return taken;
}

/* For every text the fast delta parser accepts, the json-glib parser gives
 * the same event; what it refuses still parses (or fails) as before. */
GST_START_TEST (test_audio_delta_fast_path)
{
  const gchar *accepted[] = {
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    " {\n \"event_id\" : \"event_1\" , \"type\":\"response.output_audio.delta\""
        ",\"response_id\":\"resp_1\",\"item_id\":\"item_1\",\"output_index\":3,"
        "\"content_index\":-2,\"delta\":\"\",\"future\":12}\r\n",
    "{\"delta\":\"AQI=\",\"item_id\":\"i\",\"response_id\":\"r\","
        "\"type\":\"response.output_audio.delta\",\"previous_item_id\":\"p\"}",
    /* call_id is not read for audio, whatever its type */
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"call_id\":5}",
  };
  const gchar *refused[] = {
    /* escapes, nested values, literals, non-ASCII: the full parser decides */
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\\u0041\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"x\":{\"y\":1}}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"previous_item_id\":null}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\xc3\xa9\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"output_index\":1.0}",
    /* duplicates, other events, errors */
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.done\",\"response_id\":\"r\","
        "\"item_id\":\"i\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQI\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"item_id\":\"i\","
        "\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":5}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":7,"
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"} x",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"",
  };
  guint8 audio[480];
  gchar *base;
  gsize i;
  GRand *rand = g_rand_new_with_seed (4);

  for (i = 0; i < G_N_ELEMENTS (accepted); i++)
    assert_fast_accepts (accepted[i], REALTIME_SERVER_OUTPUT_AUDIO_DELTA);
  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    assert_fast_refuses (refused[i]);

  /* random damage to a real delta never makes the paths disagree; most
   * damage is refused, but some lands where it changes nothing */
  for (i = 0; i < sizeof (audio); i++)
    audio[i] = (guint8) g_rand_int (rand);
  base = realtime_build_output_audio_delta ("resp_1", "item_1", audio,
      sizeof (audio));
  fail_unless (damage_against_tree (base, rand, 3000) > 0);
  g_free (base);
  g_rand_free (rand);
}

GST_END_TEST;

#define TRANSCRIPT_DELTA "\"type\":\"response.output_audio_transcript.delta\""
#define TEXT_DELTA "\"type\":\"response.output_text.delta\""
#define ARGUMENTS_DELTA "\"type\":\"response.function_call_arguments.delta\""
#define TRANSCRIPTION_DELTA \
  "\"type\":\"conversation.item.input_audio_transcription.delta\""

/* The four text deltas: accepted with and without their optional members,
 * in any order, with whitespace, equal to json-glib's event; refused (and
 * then parsed or failed exactly as before) outside the subset or where the
 * full parser fails. */
GST_START_TEST (test_text_delta_fast_path)
{
  const struct
  {
    const gchar *json;
    RealtimeServerEventType type;
    const gchar *delta;         /* what both must read, NULL = absent */
    const gchar *call_id;
  } accepted[] = {
    {"{" TRANSCRIPT_DELTA ",\"event_id\":\"event_7\",\"response_id\":"
          "\"resp_1\",\"item_id\":\"item_1\",\"output_index\":0,"
          "\"content_index\":0,\"delta\":\"Hello\"}",
        REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA, "Hello", NULL},
    /* only the required members, in another order */
    {"{\"delta\":\" world\"," TRANSCRIPT_DELTA "}",
        REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA, " world", NULL},
    /* whitespace everywhere, an empty delta, every optional member, indexes
     * json-glib clamps, a member nobody reads */
    {" \r\n{ " TRANSCRIPT_DELTA " ,\t\"delta\" : \"\" , \"previous_item_id\""
          ":\"p\",\"call_id\":\"c\",\"output_index\":-1,\"content_index\":"
          "2147483648,\"extra\":123456789012345678 ,\"event_id\":\"e\","
          "\"item_id\":\"i\" , \"response_id\" :\"r\"}\n",
        REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA, "", "c"},
    /* JSON punctuation inside a delta is just text */
    {"{" TEXT_DELTA ",\"response_id\":\"r\",\"item_id\":\"i\","
          "\"output_index\":1,\"content_index\":0,"
          "\"delta\":\"Hi there, {friend}: [ok] 'x' /!\"}",
          REALTIME_SERVER_OUTPUT_TEXT_DELTA, "Hi there, {friend}: [ok] 'x' /!",
        NULL},
    {"{\"content_index\":-2147483649,\"delta\":\"x\"," TEXT_DELTA ","
          "\"event_id\":\"e\"}",
        REALTIME_SERVER_OUTPUT_TEXT_DELTA, "x", NULL},
    {"{" ARGUMENTS_DELTA ",\"event_id\":\"event_9\",\"response_id\":\"resp_2\""
          ",\"item_id\":\"fc_1\",\"output_index\":0,\"call_id\":\"call_abc\","
          "\"delta\":\"Paris\"}",
        REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA, "Paris", "call_abc"},
    {"{\"delta\":\"12\"," ARGUMENTS_DELTA "}",
        REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA, "12", NULL},
    {"{" TRANSCRIPTION_DELTA ",\"event_id\":\"e1\",\"item_id\":\"item_u\","
          "\"content_index\":0,\"delta\":\"Hel\"}",
        REALTIME_SERVER_TRANSCRIPTION_DELTA, "Hel", NULL},
    /* delta is optional here */
    {"{\"item_id\":\"item_u\"," TRANSCRIPTION_DELTA "}",
        REALTIME_SERVER_TRANSCRIPTION_DELTA, NULL, NULL},
    /* call_id is not read for a transcription, whatever its type */
    {"{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":\"lo\","
          "\"call_id\":\"c\"}", REALTIME_SERVER_TRANSCRIPTION_DELTA, "lo",
        NULL},
    {"{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"call_id\":5}",
        REALTIME_SERVER_TRANSCRIPTION_DELTA, NULL, NULL},
  };
  const gchar *refused[] = {
    /* escapes (in the delta, in a key), raw non-ASCII and control
     * characters: the full parser reads them */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"say \\\"hi\\\"\"}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"line\\nbreak\"}",
    "{" TEXT_DELTA ",\"delta\":\"caf\\u00e9\"}",
    "{" TEXT_DELTA ",\"delta\":\"a\\/b\"}",
    "{" ARGUMENTS_DELTA ",\"delta\":\"{\\\"city\\\"\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":\"\\\\\"}",
    "{" TRANSCRIPT_DELTA ",\"del\\u0074a\":\"x\"}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"caf\xc3\xa9\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":\"\xe4\xbd\xa0\"}",
    "{" TEXT_DELTA ",\"delta\":\"a\tb\"}",
    "{" TEXT_DELTA ",\"delta\":\"a\x7f\x01\"}",
    /* nested values, literals */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"extra\":{\"a\":1}}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"extra\":[1]}",
    "{" TEXT_DELTA ",\"delta\":[\"x\"]}",
    "{" ARGUMENTS_DELTA ",\"delta\":\"x\",\"call_id\":null}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":null}",
    "{" TEXT_DELTA ",\"delta\":true}",
    /* a missing required member */
    "{" TRANSCRIPT_DELTA ",\"item_id\":\"i\",\"response_id\":\"r\"}",
    "{" TEXT_DELTA "}",
    "{" ARGUMENTS_DELTA ",\"call_id\":\"c\"}",
    "{" TRANSCRIPTION_DELTA ",\"delta\":\"x\"}",
    "{\"delta\":\"x\"}",
    /* a member of the wrong type */
    "{" TRANSCRIPT_DELTA ",\"delta\":5}",
    "{" ARGUMENTS_DELTA ",\"delta\":\"x\",\"call_id\":7}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"item_id\":3}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"response_id\":3}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"previous_item_id\":3}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"event_id\":1}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"output_index\":\"0\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"content_index\":\"0\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":5}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":5,\"delta\":\"x\"}",
    "{\"type\":5,\"delta\":\"x\"}",
    /* numbers json-glib reads as doubles or beyond 18 digits */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"output_index\":1.0}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"content_index\":1e2}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"output_index\":1.5}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"output_index\":9223372036854775807}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"content_index\":-1234567890123456789}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"output_index\":01}",
    "{" TEXT_DELTA ",\"delta\":\"x\",\"output_index\":+1}",
    /* duplicate keys */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"a\",\"delta\":\"b\"}",
    "{" TRANSCRIPT_DELTA "," TEXT_DELTA ",\"delta\":\"a\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"item_id\":\"j\"}",
    /* not one flat object */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\"} x",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\"}}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",}",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\"",
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x",
    "{" TRANSCRIPT_DELTA ",\"delta\" \"x\"}",
    "[{" TRANSCRIPT_DELTA ",\"delta\":\"x\"}]",
    "x{" TRANSCRIPT_DELTA ",\"delta\":\"x\"}",
    "{}",
    "",
    /* more members than the scanner keeps */
    "{" TRANSCRIPT_DELTA ",\"delta\":\"x\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,"
        "\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,"
        "\"m\":13,\"n\":14,\"o\":15}",
    /* other events, unknown types */
    "{\"type\":\"response.output_audio_transcript.done\",\"item_id\":\"i\","
        "\"transcript\":\"x\"}",
    "{\"type\":\"response.output_text.done\",\"text\":\"x\"}",
    "{\"type\":\"response.output_audio_transcript.delta.future\","
        "\"delta\":\"x\"}",
    "{\"type\":\"response.output_audio_transcript.deltaxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"delta\":\"x\"}",
  };
  /* the beta dialect's names, if the type table ever maps them */
  const gchar *beta[] = {
    "{\"type\":\"response.audio_transcript.delta\",\"delta\":\"x\"}",
    "{\"type\":\"response.text.delta\",\"delta\":\"x\"}",
  };
  gchar *built[2];
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (accepted); i++) {
    RealtimeServerEvent *fast = rtp_parse_delta_fast (accepted[i].json,
        strlen (accepted[i].json));

    assert_fast_accepts (accepted[i].json, accepted[i].type);
    /* not only equal, but right */
    fail_unless_equals_string (fast->delta, accepted[i].delta);
    fail_unless_equals_string (fast->call_id, accepted[i].call_id);
    fail_unless (fast->audio == NULL);
    realtime_server_event_free (fast);
  }
  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    assert_fast_refuses (refused[i]);
  for (i = 0; i < G_N_ELEMENTS (beta); i++) {
    fast_agrees_with_tree (beta[i], strlen (beta[i]));
    assert_public_as_tree (beta[i], -1);
  }

  /* what our own servers send */
  built[0] = realtime_build_output_audio_transcript_delta ("resp_1", "item_1",
      "Hello");
  built[1] = realtime_build_transcription_delta ("item_1", "Hi");
  assert_fast_accepts (built[0], REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA);
  assert_fast_accepts (built[1], REALTIME_SERVER_TRANSCRIPTION_DELTA);
  g_free (built[0]);
  g_free (built[1]);
}

GST_END_TEST;

/* What the fast path refuses still reaches the caller, unescaped by
 * json-glib. */
GST_START_TEST (test_text_delta_fallback)
{
  const struct
  {
    const gchar *json;
    const gchar *delta;
  } cases[] = {
    {"{" TRANSCRIPT_DELTA ",\"delta\":\"say \\\"hi\\\"\"}", "say \"hi\""},
    {"{" TEXT_DELTA ",\"delta\":\"line\\nbreak\"}", "line\nbreak"},
    {"{" TEXT_DELTA ",\"delta\":\"caf\\u00e9\"}", "caf\xc3\xa9"},
    {"{" ARGUMENTS_DELTA ",\"delta\":\"{\\\"city\\\"\"}", "{\"city\""},
    {"{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":\"caf\xc3\xa9\"}",
        "caf\xc3\xa9"},
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    RealtimeServerEvent *event;

    fail_unless (rtp_parse_delta_fast (cases[i].json,
            strlen (cases[i].json)) == NULL);
    event = realtime_server_event_parse (cases[i].json, -1, &error);
    fail_unless (event != NULL, "%s: %s", cases[i].json,
        error ? error->message : "");
    fail_unless_equals_string (event->delta, cases[i].delta);
    realtime_server_event_free (event);
  }
}

GST_END_TEST;

/* Every ASCII byte (and a few others: the scanner treats all bytes from
 * 0x80 alike) in every place of one event of each delta type: whatever the
 * fast path takes, json-glib reads the same. */
GST_START_TEST (test_delta_every_byte)
{
  const gchar *templates[] = {
    "{" TRANSCRIPT_DELTA ",\"response_id\":\"r\",\"item_id\":\"i\","
        "\"output_index\":10,\"delta\":\"ab\"}",
    "{" TEXT_DELTA ",\"delta\":\"ab\",\"content_index\":-3}",
    "{" ARGUMENTS_DELTA ",\"call_id\":\"c\",\"delta\":\"ab\"}",
    "{" TRANSCRIPTION_DELTA ",\"item_id\":\"i\",\"delta\":\"ab\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
  };
  guint8 bytes[0x80 + 2];
  gsize t, at, n_bytes = 0;
  guint taken = 0, tried = 0;

  for (t = 1; t < 0x80; t++)
    bytes[n_bytes++] = (guint8) t;
  bytes[n_bytes++] = 0x80;
  bytes[n_bytes++] = 0xc3;      /* starts a 2-byte UTF-8 sequence */
  bytes[n_bytes++] = 0xff;
  for (t = 0; t < G_N_ELEMENTS (templates); t++) {
    gsize len = strlen (templates[t]);
    gchar *text = g_strdup (templates[t]);

    for (at = 0; at < len; at++) {
      gsize b;

      for (b = 0; b < n_bytes; b++) {
        text[at] = (gchar) bytes[b];
        if (fast_agrees_with_tree (text, len))
          taken++;
        tried++;
      }
      text[at] = templates[t][at];
    }
    g_free (text);
  }
  /* the templates themselves and many bytes inside strings are taken, the
   * rest is left to json-glib */
  fail_unless (taken > 0 && taken < tried);
}

GST_END_TEST;

/* Random damage to each text delta never makes the paths disagree. */
GST_START_TEST (test_text_delta_damage)
{
  GRand *rand = g_rand_new_with_seed (7);
  gchar *bases[] = {
    realtime_build_output_audio_transcript_delta ("resp_1", "item_1",
        "Hello there"),
    realtime_build_transcription_delta ("item_1", "Hi"),
    g_strdup ("{" TEXT_DELTA ",\"event_id\":\"event_3\",\"response_id\":"
        "\"resp_1\",\"item_id\":\"item_1\",\"output_index\":0,"
        "\"content_index\":0,\"delta\":\"Hello\"}"),
    g_strdup ("{" ARGUMENTS_DELTA ",\"event_id\":\"event_4\",\"response_id\":"
        "\"resp_1\",\"item_id\":\"fc_1\",\"output_index\":0,"
        "\"call_id\":\"call_1\",\"delta\":\"42\"}"),
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bases); i++) {
    fail_unless (damage_against_tree (bases[i], rand, 1000) > 0, "%s",
        bases[i]);
    g_free (bases[i]);
  }
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
realtimefastpath_suite (void)
{
  Suite *s = suite_create ("realtimefastpath");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_append_builder);
  tcase_add_test (tc, test_base64_strict_decoder);
  tcase_add_test (tc, test_audio_delta_fast_path);
  tcase_add_test (tc, test_text_delta_fast_path);
  tcase_add_test (tc, test_text_delta_fallback);
  tcase_add_test (tc, test_delta_every_byte);
  tcase_add_test (tc, test_text_delta_damage);
  return s;
}

GST_CHECK_MAIN (realtimefastpath);
