/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CPU cost of the per-frame protocol work of one call (run with
 * `meson test --benchmark twilio_protocol_bench`; not part of the suite:
 * timings are reported, never asserted).
 *
 * Per second of a passthrough call: twiliosrc parses 50 media messages and
 * 50 mark echoes; twiliosink builds 50 media messages and 50 marks.
 */
#include <glib.h>
#include <string.h>

#include "twilioprotocol.h"

#define MZ "MZ00000000000000000000000000000002"
#define ROUNDS 200000

typedef gpointer (*Work) (gpointer data, guint i);

static gdouble
ns_per_call (Work work, gpointer data)
{
  gint64 start = g_get_monotonic_time ();
  guint i;

  for (i = 0; i < ROUNDS; i++)
    g_free (work (data, i));
  return (g_get_monotonic_time () - start) * 1000.0 / ROUNDS;
}

static gpointer
parse_media (gpointer data, guint i)
{
  TwilioMessage *m = twilio_message_parse (data, -1, TWILIO_PARSE_FROM_TWILIO,
      NULL);

  g_assert (m && m->event == TWILIO_EVENT_MEDIA);
  twilio_message_free (m);
  return NULL;
}

static gpointer
parse_media_tree (gpointer data, guint i)
{
  TwilioMessage *m = twilio_message_parse (data, -1,
      TWILIO_PARSE_FROM_TWILIO | TWILIO_PARSE_NO_FAST_PATH, NULL);

  g_assert (m && m->event == TWILIO_EVENT_MEDIA);
  twilio_message_free (m);
  return NULL;
}

static gpointer
parse_mark (gpointer data, guint i)
{
  TwilioMessage *m = twilio_message_parse (data, -1, TWILIO_PARSE_FROM_TWILIO,
      NULL);

  g_assert (m && m->event == TWILIO_EVENT_MARK);
  twilio_message_free (m);
  return NULL;
}

static gpointer
build_media (gpointer data, guint i)
{
  return twilio_build_media (MZ, data, TWILIO_FRAME_BYTES);
}

static gpointer
build_mark (gpointer data, guint i)
{
  gchar name[32];

  g_snprintf (name, sizeof (name), "gst-%u", i);
  return twilio_build_mark (MZ, name);
}

int
main (int argc, char **argv)
{
  guint8 frame[TWILIO_FRAME_BYTES];
  gchar *media, *mark;
  gdouble src_ns, sink_ns, tree_ns;
  guint i;

  for (i = 0; i < sizeof (frame); i++)
    frame[i] = (guint8) (i * 37);
  media = twilio_build_inbound_media (42, MZ, "inbound", 41, 820, frame,
      sizeof (frame));
  mark = twilio_build_mark_echo (43, MZ, "gst-17");

  tree_ns = ns_per_call (parse_media_tree, media);
  src_ns = ns_per_call (parse_media, media);
  g_print ("parse media (json-glib tree): %8.0f ns\n", tree_ns);
  g_print ("parse media (fast path):      %8.0f ns\n", src_ns);
  sink_ns = ns_per_call (parse_mark, mark);
  g_print ("parse mark echo:              %8.0f ns\n", sink_ns);
  src_ns = 50 * (src_ns + sink_ns);

  sink_ns = ns_per_call (build_media, frame);
  g_print ("build media:                  %8.0f ns\n", sink_ns);
  tree_ns = ns_per_call (build_mark, NULL);
  g_print ("build mark:                   %8.0f ns\n", tree_ns);
  sink_ns = 50 * (sink_ns + tree_ns);

  /* ns per second of call -> percent of one core */
  g_print ("per call: src %.4f%% + sink %.4f%% of a core (target <= 0.05%% "
      "for both)\n", src_ns / 1e7, sink_ns / 1e7);

  g_free (media);
  g_free (mark);
  return 0;
}
