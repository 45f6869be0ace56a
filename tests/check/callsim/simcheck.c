/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the call simulator's tests: running realtime-bridge-call and
 * reading its JSON output, checking what it sent to the fake bridge against
 * Twilio's numbering rules, test audio and reading the recorded WAV.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include "callsimaudio.h"
#include "simcheck.h"

/* Formatted arguments of the next run, freed by it. */
static GPtrArray *arg_pool;

/* ---- running the simulator ------------------------------------------- */

const gchar *
fmt_arg (const gchar * format, ...)
{
  va_list ap;
  gchar *arg;

  va_start (ap, format);
  arg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (arg_pool == NULL)
    arg_pool = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (arg_pool, arg);
  return arg;
}


void
sim_run_free (SimRun * run)
{
  g_free (run->out);
  g_free (run->err);
  g_ptr_array_unref (run->lines);
  g_free (run);
}

SimRun *
run_sim_argv (GPtrArray * args)
{
  const gchar *exe = g_getenv ("REALTIME_BRIDGE_CALL");
  GSubprocess *process;
  GError *error = NULL;
  SimRun *run = g_new0 (SimRun, 1);
  gchar **lines;
  guint i;

  fail_unless (exe != NULL, "REALTIME_BRIDGE_CALL is not set");
  g_ptr_array_insert (args, 0, g_strdup (exe));
  g_ptr_array_add (args, NULL);
  process = g_subprocess_newv ((const gchar * const *) args->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  fail_unless (process != NULL, "cannot run %s: %s", exe,
      error ? error->message : "");
  fail_unless (g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out,
          &run->err, &error), "communicate: %s", error ? error->message : "");
  fail_unless (g_subprocess_get_if_exited (process), "simulator crashed:\n%s",
      run->err);
  run->status = g_subprocess_get_exit_status (process);
  /* CALLSIM_TEST_VERBOSE=1 shows what the simulator printed */
  if (g_getenv ("CALLSIM_TEST_VERBOSE"))
    g_printerr ("---- exit %d\n%s%s", run->status, run->out, run->err);
  g_object_unref (process);
  g_ptr_array_unref (args);
  g_clear_pointer (&arg_pool, g_ptr_array_unref);

  run->lines = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  lines = g_strsplit (run->out, "\n", -1);
  for (i = 0; lines[i]; i++) {
    JsonNode *node;

    if (lines[i][0] != '{')
      continue;
    node = json_from_string (lines[i], &error);
    fail_unless (node != NULL, "bad JSON line %s", lines[i]);
    g_ptr_array_add (run->lines, node);
    if (g_strcmp0 (json_object_get_string_member (json_node_get_object (node),
                "event"), "summary") == 0)
      run->summary = json_node_get_object (node);
    if (g_strcmp0 (json_object_get_string_member (json_node_get_object (node),
                "event"), "aggregate") == 0)
      run->aggregate = json_node_get_object (node);
  }
  g_strfreev (lines);
  return run;
}

/* Arguments after the URL, NULL-terminated; always JSON output and a
 * bounded call length. */
SimRun *
run_sim (FakeBridge * bridge, const gchar * first, ...)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  const gchar *arg;
  va_list ap;

  g_ptr_array_add (args, g_strdup ("--json"));
  g_ptr_array_add (args, g_strdup ("--max-duration=15000"));
  if (bridge) {
    gchar *url = fake_bridge_get_url (bridge);

    g_ptr_array_add (args, g_strdup_printf ("--url=%s", url));
    g_free (url);
  }
  va_start (ap, first);
  for (arg = first; arg; arg = va_arg (ap, const gchar *))
      g_ptr_array_add (args, g_strdup (arg));
  va_end (ap);
  return run_sim_argv (args);
}

void
assert_exit (SimRun * run, gint status)
{
  fail_unless (run->status == status, "exit status %d, expected %d; "
      "output:\n%s\n%s", run->status, status, run->out, run->err);
}

gint64
summary_int (SimRun * run, const gchar * name)
{
  fail_unless (run->summary != NULL, "no summary in:\n%s\n%s", run->out,
      run->err);
  return json_object_get_int_member (run->summary, name);
}

gdouble
summary_double (SimRun * run, const gchar * name)
{
  fail_unless (run->summary != NULL, "no summary in:\n%s", run->out);
  return json_object_get_double_member (run->summary, name);
}

gint64
violations_of (SimRun * run, const gchar * kind)
{
  JsonObject *v = json_object_get_object_member (run->summary, "violations");

  return json_object_get_int_member_with_default (v, kind, 0);
}

/* Timeline events named @name, in order. */
GPtrArray *
events_named (SimRun * run, const gchar * name)
{
  GPtrArray *found = g_ptr_array_new ();
  guint i;

  for (i = 0; i < run->lines->len; i++) {
    JsonObject *o = json_node_get_object (g_ptr_array_index (run->lines, i));

    if (g_strcmp0 (json_object_get_string_member (o, "event"), name) == 0)
      g_ptr_array_add (found, o);
  }
  return found;
}

/* ---- what the caller sent -------------------------------------------- */

static JsonObject *
frame_object (FakeFrame * frame, JsonParser * parser)
{
  fail_unless (frame->text != NULL, "the simulator sent a binary frame");
  fail_unless (json_parser_load_from_data (parser, frame->text, -1, NULL),
      "not JSON: %s", frame->text);
  return json_node_get_object (json_parser_get_root (parser));
}

static gboolean
is_sid (const gchar * sid, const gchar * prefix)
{
  return g_regex_match_simple (prefix, sid, 0, 0)
      && g_regex_match_simple ("^..[0-9a-f]{32}$", sid, 0, 0);
}


void
caller_stream_clear (CallerStream * s)
{
  g_free (s->dtmf_digits);
  g_ptr_array_unref (s->echo_names);
  g_array_unref (s->echo_us);
  if (s->custom)
    json_object_unref (s->custom);
}

/* Checks everything Twilio's numbering rules say about the frames of
 * @conn and collects what they carried. */
void
check_caller_stream (FakeConn * conn, CallerStream * s)
{
  JsonParser *parser = json_parser_new ();
  GString *digits = g_string_new (NULL);
  gchar *account_sid = NULL, *call_sid = NULL;
  guint i;
  gint64 expected_seq = 1;
  gchar number[32];

  memset (s, 0, sizeof *s);
  s->first_speech_ts = s->last_speech_ts = -1;
  s->echo_names = g_ptr_array_new_with_free_func (g_free);
  s->echo_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  fail_unless (conn->frames->len >= 2);

  for (i = 0; i < conn->frames->len; i++) {
    FakeFrame *frame = g_ptr_array_index (conn->frames, i);
    JsonObject *o = frame_object (frame, parser);
    const gchar *event = json_object_get_string_member (o, "event");

    fail_if (s->stopped, "%s after stop", event);
    if (i == 0) {
      fail_unless_equals_string (event, "connected");
      fail_unless_equals_string (json_object_get_string_member (o,
              "protocol"), "Call");
      fail_unless_equals_string (json_object_get_string_member (o,
              "version"), "1.0.0");
      fail_if (json_object_has_member (o, "sequenceNumber"));
      continue;
    }
    /* every other message: sequenceNumber as a string, +1 each */
    g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, expected_seq);
    fail_unless_equals_string (json_object_get_string_member (o,
            "sequenceNumber"), number);
    expected_seq++;
    fail_unless_equals_string (json_object_get_string_member (o,
            "streamSid"), conn->stream_sid);

    if (i == 1) {
      JsonObject *start = json_object_get_object_member (o, "start");
      JsonObject *format = json_object_get_object_member (start,
          "mediaFormat");
      JsonArray *tracks = json_object_get_array_member (start, "tracks");

      fail_unless_equals_string (event, "start");
      account_sid = g_strdup (json_object_get_string_member (start,
              "accountSid"));
      call_sid = g_strdup (json_object_get_string_member (start, "callSid"));
      fail_unless (is_sid (account_sid, "^AC"), "%s", account_sid);
      fail_unless (is_sid (call_sid, "^CA"), "%s", call_sid);
      fail_unless (is_sid (conn->stream_sid, "^MZ"), "%s", conn->stream_sid);
      fail_unless_equals_string (json_object_get_string_member (start,
              "streamSid"), conn->stream_sid);
      fail_unless_equals_int (json_array_get_length (tracks), 1);
      fail_unless_equals_string (json_array_get_string_element (tracks, 0),
          "inbound");
      fail_unless_equals_string (json_object_get_string_member (format,
              "encoding"), "audio/x-mulaw");
      fail_unless_equals_int (json_object_get_int_member (format,
              "sampleRate"), 8000);
      fail_unless_equals_int (json_object_get_int_member (format,
              "channels"), 1);
      s->custom = json_object_ref (json_object_get_object_member (start,
              "customParameters"));
      continue;
    }

    if (g_str_equal (event, "media")) {
      JsonObject *media = json_object_get_object_member (o, "media");
      gsize len;
      guchar *payload = g_base64_decode (json_object_get_string_member (media,
              "payload"), &len);
      gint64 ts = g_ascii_strtoll (json_object_get_string_member (media,
              "timestamp"), NULL, 10);
      gsize j;
      gboolean speech = FALSE;

      fail_unless_equals_int (len, FRAME);
      fail_unless_equals_string (json_object_get_string_member (media,
              "track"), "inbound");
      g_snprintf (number, sizeof number, "%u", s->media + 1);
      fail_unless_equals_string (json_object_get_string_member (media,
              "chunk"), number);
      /* Twilio starts at about 150 ms and steps 20 ms */
      fail_unless_equals_int64 (ts, 150 + 20 * s->media);
      for (j = 0; j < len; j++)
        speech |= payload[j] != 0xFF && payload[j] != 0x7F;
      if (speech) {
        s->speech_frames++;
        if (s->first_speech_ts < 0)
          s->first_speech_ts = ts;
        s->last_speech_ts = ts;
      }
      g_free (payload);
      if (s->media == 0)
        s->first_media_us = frame->arrival_us;
      s->last_media_us = frame->arrival_us;
      s->media++;
    } else if (g_str_equal (event, "dtmf")) {
      JsonObject *dtmf = json_object_get_object_member (o, "dtmf");

      fail_unless_equals_string (json_object_get_string_member (dtmf,
              "track"), "inbound_track");
      g_string_append (digits, json_object_get_string_member (dtmf, "digit"));
      s->dtmf++;
    } else if (g_str_equal (event, "mark")) {
      JsonObject *mark = json_object_get_object_member (o, "mark");

      g_ptr_array_add (s->echo_names,
          g_strdup (json_object_get_string_member (mark, "name")));
      g_array_append_val (s->echo_us, frame->arrival_us);
      s->mark_echoes++;
    } else if (g_str_equal (event, "stop")) {
      JsonObject *stop = json_object_get_object_member (o, "stop");

      fail_unless_equals_string (json_object_get_string_member (stop,
              "accountSid"), account_sid);
      fail_unless_equals_string (json_object_get_string_member (stop,
              "callSid"), call_sid);
      s->stopped = TRUE;
    } else {
      fail ("unexpected event %s from the simulator", event);
    }
  }
  s->dtmf_digits = g_string_free (digits, FALSE);
  g_free (account_sid);
  g_free (call_sid);
  g_object_unref (parser);
}

FakeConn *
only_connection (FakeBridge * bridge)
{
  GPtrArray *conns = fake_bridge_get_connections (bridge);

  fail_unless_equals_int (conns->len, 1);
  return g_ptr_array_index (conns, 0);
}

/* ---- audio helpers --------------------------------------------------- */

/* 1 kHz at half scale, as μ-law: what the fake bridge says. */
guint8 *
make_pattern (gsize len)
{
  guint8 *data = g_malloc (len);
  gsize i;

  for (i = 0; i < len; i++)
    data[i] = callsim_linear_to_mulaw ((gint16) (16000 * sin (2 * G_PI *
                1000 * i / 8000.0 + 0.3)));
  return data;
}

/* Runs before the suite, so no fail_unless here. */
void
make_tone_file (const gchar * path, guint ms)
{
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%u "
      "samplesperbuffer=160 freq=440 volume=0.5 ! audio/x-raw,rate=16000,"
      "channels=1,format=S16LE ! wavenc ! filesink location=\"%s\"",
      ms / 10, path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstMessage *msg;

  g_assert_nonnull (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
}

/* The samples of a 16-bit mono 8 kHz WAV written by the simulator. */
gint16 *
read_wav (const gchar * path, gsize * n_samples)
{
  gchar *data;
  gsize len;
  const guint8 *h;
  gint16 *samples;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "no %s", path);
  fail_unless (len >= 44);
  h = (const guint8 *) data;
  fail_unless (memcmp (h, "RIFF", 4) == 0 && memcmp (h + 8, "WAVEfmt ",
          8) == 0);
  fail_unless_equals_int (GST_READ_UINT16_LE (h + 20), 1);
  fail_unless_equals_int (GST_READ_UINT16_LE (h + 22), 1);
  fail_unless_equals_int (GST_READ_UINT32_LE (h + 24), 8000);
  fail_unless_equals_int (GST_READ_UINT16_LE (h + 34), 16);
  fail_unless_equals_int (GST_READ_UINT32_LE (h + 40), len - 44);
  fail_unless_equals_int (GST_READ_UINT32_LE (h + 4), len - 8);
  *n_samples = (len - 44) / 2;
  samples = g_new (gint16, *n_samples + 1);
  memcpy (samples, data + 44, *n_samples * 2);
  g_free (data);
  return samples;
}
