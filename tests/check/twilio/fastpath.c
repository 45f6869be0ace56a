/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The per-frame fast path of the protocol library (twiliomedia.c) gives
 * exactly what the general JSON code gives: parsing real, varied and
 * mutated media/mark messages in every mode, and building.
 */
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "twilioprotocol.h"
#include "twilioprotocolprivate.h"

#define MZ "MZ00000000000000000000000000000002"

static const TwilioParseFlags all_modes[] = {
  TWILIO_PARSE_FROM_TWILIO,
  TWILIO_PARSE_FROM_TWILIO | TWILIO_PARSE_STRICT,
  TWILIO_PARSE_TO_TWILIO,
  TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT,
};

/* Plain comparisons: a gstcheck assertion per field would cost a
 * checkpoint write each, too slow for the mutation rounds. */
static gboolean
same_message (const TwilioMessage * a, const TwilioMessage * b)
{
  return a->event == b->event
      && g_strcmp0 (a->stream_sid, b->stream_sid) == 0
      && a->has_sequence_number == b->has_sequence_number
      && a->sequence_number == b->sequence_number
      && g_strcmp0 (a->track, b->track) == 0
      && a->has_chunk == b->has_chunk && a->chunk == b->chunk
      && a->has_timestamp == b->has_timestamp
      && a->timestamp_ms == b->timestamp_ms
      && g_strcmp0 (a->mark_name, b->mark_name) == 0
      && (a->payload == NULL) == (b->payload == NULL)
      && (a->payload == NULL || g_bytes_equal (a->payload, b->payload));
}

/* Parses @json (@len bytes) in every mode with and without the fast path;
 * returns how many modes the fast path itself answered. */
static guint
check_equivalent (const gchar * json, gsize len)
{
  guint i, fast_hits = 0;

  for (i = 0; i < G_N_ELEMENTS (all_modes); i++) {
    GError *fast_error = NULL, *tree_error = NULL;
    TwilioMessage *fast = twilio_message_parse (json, len, all_modes[i],
        &fast_error);
    TwilioMessage *tree = twilio_message_parse (json, len,
        all_modes[i] | TWILIO_PARSE_NO_FAST_PATH, &tree_error);
    TwilioMessage *direct = twilio_media_fast_parse (json, len, all_modes[i]);
    gboolean same;

    if (fast && tree)
      same = same_message (fast, tree);
    else if (!fast && !tree)
      same = fast_error->code == tree_error->code
          && g_str_equal (fast_error->message, tree_error->message);
    else
      same = FALSE;
    /* What the fast path accepts, the general parser accepts the same. */
    if (direct) {
      same = same && tree && same_message (direct, tree);
      fast_hits++;
    }
    if (!same)
      fail ("mode %u: fast %s, tree %s for %.*s", all_modes[i],
          fast ? "parsed" : fast_error->message,
          tree ? "parsed" : tree_error->message, (gint) len, json);
    twilio_message_free (fast);
    twilio_message_free (tree);
    twilio_message_free (direct);
    g_clear_error (&fast_error);
    g_clear_error (&tree_error);
  }
  return fast_hits;
}

static gchar *
reference_path (void)
{
  const gchar *root = g_getenv ("SOURCE_ROOT");

  fail_unless (root != NULL, "SOURCE_ROOT is not set");
  return g_build_filename (root, "tests", "check", "twilio",
      "twilio-messages.jsonl", NULL);
}

GST_START_TEST (test_reference_messages_same)
{
  g_autofree gchar *path = reference_path ();
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint i, n = 0, hits = 0;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    const gchar *raw;

    if (*g_strstrip (lines[i]) == '\0')
      continue;
    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL));
    raw = json_object_get_string_member (json_node_get_object
        (json_parser_get_root (parser)), "raw");
    hits += check_equivalent (raw, strlen (raw));
    n++;
  }
  fail_unless_equals_int (n, 25);
  /* The real media and mark messages take the fast path. */
  fail_unless (hits >= 8, "only %u fast parses", hits);
}

GST_END_TEST;

/* Shapes near the edge of what the fast path takes. */
static const gchar *variants[] = {
  /* plain shapes: the fast path answers */
  "{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":{\"track\":"
      "\"inbound\",\"chunk\":\"1\",\"timestamp\":\"5\",\"payload\":\"AAH+/w==\"},"
      "\"streamSid\":\"" MZ "\"}",
  "{\"event\":\"media\",\"streamSid\":\"" MZ "\",\"media\":{\"payload\":"
      "\"////\"}}",
  " { \"streamSid\" : \"MZ\" ,\n\t\"media\" : { \"payload\" : \"\" , "
      "\"timestamp\" : 7 , \"chunk\" : 0 } , \"event\" : \"media\" } \r\n",
  "{\"event\":\"mark\",\"sequenceNumber\":\"4\",\"streamSid\":\"" MZ "\","
      "\"mark\":{\"name\":\"gst-1\"}}",
  "{\"mark\":{\"name\":\"\"},\"event\":\"mark\"}",
  "{\"event\":\"media\",\"sequenceNumber\":\"000\",\"media\":{\"payload\":"
      "\"AA==\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":123456789012345678,\"media\":"
      "{\"payload\":\"AA==\"}}",
  /* left to the general parser, which accepts or rejects */
  "{\"event\":\"media\",\"sequenceNumber\":\"18446744073709551616\","
      "\"media\":{\"payload\":\"AA==\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":1234567890123456789,\"media\":"
      "{\"payload\":\"AA==\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":-1,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":1.5,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":1e3,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":01,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":\"1a\",\"media\":{\"payload\":"
      "\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":null,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"sequenceNumber\":true,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"streamSid\":\"M\\u005a\",\"media\":{\"payload\":"
      "\"\"}}",
  "{\"event\":\"media\",\"streamSid\":\"MZ\\\"\",\"media\":{\"payload\":"
      "\"\"}}",
  "{\"event\":\"media\",\"streamSid\":\"MZ\xc3\xa9\",\"media\":{\"payload\":"
      "\"\"}}",
  "{\"event\":\"media\",\"streamSid\":7,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"AA=\"}}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"AA-_\"}}",
  "{\"event\":\"media\",\"media\":{\"payload\":5}}",
  "{\"event\":\"media\",\"media\":{}}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\",\"extra\":1}}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\"},\"extra\":1}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\"},\"media\":{\"payload\":"
      "\"AA==\"}}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\",\"payload\":\"AA==\"}}",
  "{\"event\":\"media\",\"event\":\"mark\",\"mark\":{\"name\":\"x\"}}",
  "{\"event\":\"media\",\"mark\":{\"name\":\"x\"}}",
  "{\"event\":\"mark\",\"media\":{\"payload\":\"\"},\"mark\":{\"name\":"
      "\"x\"}}",
  "{\"event\":\"mark\",\"mark\":{}}",
  "{\"event\":\"mark\",\"mark\":{\"name\":null}}",
  "{\"event\":\"mark\",\"mark\":[\"name\"]}",
  "{\"event\":\"clear\",\"streamSid\":\"MZ\"}",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\"}} x",
  "{\"event\":\"media\",\"media\":{\"payload\":\"\"},}",
  "{\"event\":\"media\",,\"media\":{\"payload\":\"\"}}",
  "{\"event\":\"media\" \"media\":{\"payload\":\"\"}}",
  "[\"event\",\"media\"]",
  "",
  "{",
};

GST_START_TEST (test_variants_same)
{
  guint i, hits = 0;

  for (i = 0; i < G_N_ELEMENTS (variants); i++)
    hits += check_equivalent (variants[i], strlen (variants[i]));
  /* The first seven are plain: every mode where they are valid is fast. */
  fail_unless (hits >= 7, "only %u fast parses", hits);
  {
    TwilioMessage *m = twilio_media_fast_parse (variants[0],
        strlen (variants[0]), TWILIO_PARSE_FROM_TWILIO);

    fail_unless (m != NULL);
    twilio_message_free (m);
  }
  for (i = 7; i < G_N_ELEMENTS (variants); i++) {
    TwilioMessage *m = twilio_media_fast_parse (variants[i],
        strlen (variants[i]), TWILIO_PARSE_FROM_TWILIO);

    fail_unless (m == NULL, "fast path took %s", variants[i]);
  }
}

GST_END_TEST;

/* Truncations and random byte changes of real media and mark messages. */
GST_START_TEST (test_mutations_same)
{
  /* A short payload keeps the rounds cheap (sanitizer builds unwind the
   * stack on every allocation); the fields around it are what matter. */
  guint8 frame[12];
  gchar *seeds[2];
  GRand *rand = g_rand_new_with_seed (7);
  guint s, i;

  for (i = 0; i < sizeof (frame); i++)
    frame[i] = (guint8) (i * 13);
  seeds[0] = twilio_build_inbound_media (12, MZ, "inbound", 11, 220, frame,
      sizeof (frame));
  seeds[1] = twilio_build_mark_echo (13, MZ, "gst-5");

  for (s = 0; s < G_N_ELEMENTS (seeds); s++) {
    gsize len = strlen (seeds[s]), cut;
    guint round;

    for (cut = 0; cut <= len; cut++)
      check_equivalent (seeds[s], cut);
    for (round = 0; round < 800; round++) {
      gchar *mutated = g_strdup (seeds[s]);
      guint k, n = g_rand_int_range (rand, 1, 4);
      static const gchar alphabet[] = "\"\\{}[],: 0123456789-+.eE=/AZaz\x01"
          "\x7f\xc3";

      for (k = 0; k < n; k++)
        mutated[g_rand_int_range (rand, 0, len)] =
            alphabet[g_rand_int_range (rand, 0, sizeof (alphabet) - 1)];
      check_equivalent (mutated, len);
      g_free (mutated);
    }
  }
  g_free (seeds[0]);
  g_free (seeds[1]);
  g_rand_free (rand);
}

GST_END_TEST;

/* The string builders give the JsonBuilder's text byte for byte. */
GST_START_TEST (test_build_same)
{
  const gchar *sids[] = { MZ, "", "MZ\"quoted\\", "MZ\n\x01", "MZ\xc3\xa9",
    NULL
  };
  const gchar *names[] = { "gst-1", "my label", "tab\there", "é", NULL };
  guint8 data[400];
  guint i, k;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) (i * 7 + 3);
  for (i = 0; sids[i]; i++) {
    for (k = 0; k <= sizeof (data); k += (k < 8 ? 1 : 53)) {
      TwilioMessage m = { 0, };
      gchar *fast, *tree;

      m.event = TWILIO_EVENT_MEDIA;
      m.stream_sid = (gchar *) sids[i];
      m.payload = g_bytes_new_static (data, k);
      fast = twilio_build_media (sids[i], data, k);
      tree = twilio_message_to_json (&m);
      fail_unless_equals_string (fast, tree);
      g_free (fast);
      g_free (tree);

      m.has_sequence_number = TRUE;
      m.sequence_number = G_MAXUINT64 - k;
      m.has_chunk = TRUE;
      m.chunk = k;
      m.has_timestamp = TRUE;
      m.timestamp_ms = 20 * k;
      m.track = (gchar *) names[k % 4];
      fast = twilio_build_inbound_media (m.sequence_number, sids[i],
          m.track, k, 20 * k, data, k);
      tree = twilio_message_to_json (&m);
      fail_unless_equals_string (fast, tree);
      g_free (fast);
      g_free (tree);
      g_bytes_unref (m.payload);
    }
    for (k = 0; names[k]; k++) {
      TwilioMessage m = { 0, };
      gchar *fast, *tree;

      m.event = TWILIO_EVENT_MARK;
      m.stream_sid = (gchar *) sids[i];
      m.mark_name = (gchar *) names[k];
      fast = twilio_build_mark (sids[i], names[k]);
      tree = twilio_message_to_json (&m);
      fail_unless_equals_string (fast, tree);
      g_free (fast);
      g_free (tree);

      m.has_sequence_number = TRUE;
      m.sequence_number = k;
      fast = twilio_build_mark_echo (k, sids[i], names[k]);
      tree = twilio_message_to_json (&m);
      fail_unless_equals_string (fast, tree);
      g_free (fast);
      g_free (tree);
    }
  }
}

GST_END_TEST;

static Suite *
twilio_fastpath_suite (void)
{
  Suite *s = suite_create ("twilio_fastpath");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_reference_messages_same);
  tcase_add_test (tc, test_variants_same);
  tcase_add_test (tc, test_mutations_same);
  tcase_add_test (tc, test_build_same);
  return s;
}

GST_CHECK_MAIN (twilio_fastpath);
