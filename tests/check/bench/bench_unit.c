/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the benchmark's pure parts (tools/bench/benchsignal.c,
 * bench_proc_parse): the call code survives μ-law and a 8 -> 24 kHz
 * resampling in any chunking, onsets are found on the right sample,
 * percentiles, and /proc parsing.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>

#include <unistd.h>
#include <glib-unix.h>

#include "benchlauncher.h"
#include "benchpoll.h"
#include "benchsignal.h"
#include "callsimaudio.h"

static GArray *
decode_8k (GBytes * mulaw)
{
  gsize size, i;
  const guint8 *data = g_bytes_get_data (mulaw, &size);
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (gint16), size);

  for (i = 0; i < size; i++) {
    gint16 v = callsim_mulaw_to_linear (data[i]);
    g_array_append_val (out, v);
  }
  return out;
}

/* 8 -> 24 kHz by linear interpolation: a resampler's smearing of edges */
static GArray *
upsample_3x (GArray * in)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint i, k;

  for (i = 0; i < in->len; i++) {
    gint a = g_array_index (in, gint16, i);
    gint b = i + 1 < in->len ? g_array_index (in, gint16, i + 1) : a;

    for (k = 0; k < 3; k++) {
      gint16 v = (gint16) (a + (b - a) * (gint) k / 3);
      g_array_append_val (out, v);
    }
  }
  return out;
}

/* Feeds @pcm in chunks of @chunk; returns the decoded number and appends
 * the onsets after the code to @onsets. */
static gint
decode_call (GArray * pcm, guint rate, guint chunk, GArray * onsets)
{
  BenchCodeDecoder code;
  BenchOnsetDetector onset;
  guint i = 0;
  gboolean done = FALSE;

  bench_code_decoder_init (&code, rate);
  while (i < pcm->len && !done) {
    guint n = MIN (chunk, pcm->len - i);

    done = bench_code_decoder_push (&code, &g_array_index (pcm, gint16, i), n);
    i += n;
  }
  fail_unless (done, "the code was never complete");
  bench_onset_detector_init (&onset, rate / 10);
  onset.position = bench_code_decoder_end (&code);
  onset.quiet_run = 0;
  bench_onset_detector_push (&onset, &g_array_index (pcm, gint16,
          onset.position), pcm->len - onset.position, onsets);
  return code.call_number;
}

GST_START_TEST (test_code_round_trip)
{
  static const guint numbers[] = { 1, 2, 5, 1000, 2730, 4095 };
  static const guint chunks[] = { 1, 37, 160, 800, 100000 };
  BenchCallerLayout layout;
  guint i, j;

  bench_caller_layout_init (&layout, 7000);
  for (i = 0; i < G_N_ELEMENTS (numbers); i++) {
    GBytes *audio = bench_caller_audio_new (&layout, numbers[i]);
    GArray *pcm8 = decode_8k (audio);
    GArray *pcm24 = upsample_3x (pcm8);

    fail_unless_equals_int (pcm8->len, 7000 * 8);
    for (j = 0; j < G_N_ELEMENTS (chunks); j++) {
      GArray *onsets = g_array_new (FALSE, FALSE, sizeof (guint64));
      guint k;

      fail_unless_equals_int (decode_call (pcm8, 8000, chunks[j], onsets),
          numbers[i]);
      /* bursts at 2, 4 and 6 s, found on their first sample */
      fail_unless_equals_int (onsets->len, 3);
      for (k = 0; k < 3; k++)
        fail_unless_equals_uint64 (g_array_index (onsets, guint64, k),
            (guint64) (2000 + 2000 * k) * 8);
      g_array_set_size (onsets, 0);

      fail_unless_equals_int (decode_call (pcm24, 24000, chunks[j], onsets),
          numbers[i]);
      fail_unless_equals_int (onsets->len, 3);
      /* interpolation lifts the two samples before the tone: within one
       * 8 kHz sample */
      for (k = 0; k < 3; k++) {
        gint64 at = g_array_index (onsets, guint64, k);

        fail_unless (ABS (at - (2000 + 2000 * (gint64) k) * 24) <= 3,
            "burst %u found at sample %" G_GINT64_FORMAT, k, at);
      }
      g_array_unref (onsets);
    }
    g_array_unref (pcm24);
    g_array_unref (pcm8);
    g_bytes_unref (audio);
  }
}

GST_END_TEST;

GST_START_TEST (test_code_parity_and_marker)
{
  BenchCallerLayout layout;
  GBytes *audio;
  GArray *pcm;
  guint frame;

  bench_caller_layout_init (&layout, 3000);
  audio = bench_caller_audio_new (&layout, 6);
  pcm = decode_8k (audio);
  /* bit 0 (LSB) of 6 is 0: turning its frame into tone breaks parity */
  frame = layout.code_frame + BENCH_CODE_BITS;
  memcpy (&g_array_index (pcm, gint16, frame * 160),
      &g_array_index (pcm, gint16, layout.code_frame * 160),
      160 * sizeof (gint16));
  fail_unless_equals_int (decode_call (pcm, 8000, 160, NULL), -1);
  g_array_unref (pcm);
  g_bytes_unref (audio);
}

GST_END_TEST;

GST_START_TEST (test_burst_frames)
{
  BenchCallerLayout layout;
  guint index = 99;

  bench_caller_layout_init (&layout, 10000);
  fail_unless_equals_int (layout.total_frames, 500);
  fail_if (bench_caller_layout_burst_at (&layout, 0, &index));
  fail_if (bench_caller_layout_burst_at (&layout, 99, &index));
  fail_unless (bench_caller_layout_burst_at (&layout, 100, &index));
  fail_unless_equals_int (index, 0);
  fail_if (bench_caller_layout_burst_at (&layout, 101, &index));
  fail_unless (bench_caller_layout_burst_at (&layout, 400, &index));
  fail_unless_equals_int (index, 3);
  fail_if (bench_caller_layout_burst_at (&layout, 500, &index));
}

GST_END_TEST;

GST_START_TEST (test_onset_needs_quiet)
{
  BenchOnsetDetector d;
  GArray *onsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  gint16 loud[10], quiet[10];
  guint i;

  for (i = 0; i < 10; i++) {
    loud[i] = (i % 2) ? -5000 : 5000;
    quiet[i] = BENCH_SOUND_THRESHOLD;   /* at the threshold is quiet */
  }
  bench_onset_detector_init (&d, 15);
  /* the stream's start counts as quiet */
  fail_unless_equals_int (bench_onset_detector_push (&d, loud, 10, onsets), 1);
  fail_unless_equals_uint64 (g_array_index (onsets, guint64, 0), 0);
  /* 10 quiet samples are not enough */
  bench_onset_detector_push (&d, quiet, 10, onsets);
  fail_unless_equals_int (bench_onset_detector_push (&d, loud, 10, onsets), 0);
  /* 15, split over two pushes, are */
  bench_onset_detector_push (&d, quiet, 10, onsets);
  bench_onset_detector_push (&d, quiet, 5, onsets);
  fail_unless_equals_int (bench_onset_detector_push (&d, loud + 1, 3,
          onsets), 1);
  fail_unless_equals_uint64 (g_array_index (onsets, guint64, 1), 45);
  fail_unless_equals_uint64 (d.position, 48);
  g_array_unref (onsets);
}

GST_END_TEST;

GST_START_TEST (test_percentiles)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint i;

  fail_unless (isnan (bench_percentile (v, 50)));
  for (i = 100; i >= 1; i--) {
    gdouble x = i;
    g_array_append_val (v, x);
  }
  fail_unless_equals_float (bench_percentile (v, 50), 50);
  fail_unless_equals_float (bench_percentile (v, 95), 95);
  fail_unless_equals_float (bench_percentile (v, 99), 99);
  fail_unless_equals_float (bench_percentile (v, 100), 100);
  g_array_set_size (v, 1);
  fail_unless_equals_float (bench_percentile (v, 99), 1);
  g_array_unref (v);
}

GST_END_TEST;

GST_START_TEST (test_proc_parse)
{
  /* a command name with spaces and parentheses, as proc(5) allows */
  const gchar *stat = "4242 (real (time) bridge) S 1 4242 4242 0 -1 "
      "4194560 1234 0 0 0 250 50 0 0 20 0 7 0 100 123456789 2560";
  const gchar *status = "Name:\trealtime-bridge\nVmRSS:\t   20480 kB\n"
      "Threads:\t7\nvoluntary_ctxt_switches:\t1000\n"
      "nonvoluntary_ctxt_switches:\t25\n";
  BenchProcSample s = { 0, };

  fail_unless (bench_proc_parse (stat, status, 100, &s));
  fail_unless_equals_float (s.cpu_s, 3.0);
  fail_unless_equals_float (s.rss_mb, 20.0);
  fail_unless_equals_int (s.threads, 7);
  fail_unless_equals_uint64 (s.ctx_voluntary, 1000);
  fail_unless_equals_uint64 (s.ctx_involuntary, 25);
  fail_if (bench_proc_parse ("garbage", status, 100, &s));
  fail_if (bench_proc_parse ("1 (x) S 1 2", status, 100, &s));
}

GST_END_TEST;

/* ---- the epoll GPollFunc ---------------------------------------------- */

static void
make_pipe (gint fds[2])
{
  fail_unless (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
}

/* Same answers as poll(): what is ready, per entry, including two entries
 * for one fd, and G_IO_NVAL for a closed fd. */
GST_START_TEST (test_epoll_like_poll)
{
  gint a[2], b[2];
  GPollFD fds[4];
  gint n;
  gint64 deadline;

  make_pipe (a);
  make_pipe (b);
  fds[0] = (GPollFD) {
  a[0], G_IO_IN, 0};
  fds[1] = (GPollFD) {
  b[0], G_IO_IN, 0};
  fds[2] = (GPollFD) {
  b[1], G_IO_OUT, 0};
  fds[3] = (GPollFD) {
  b[1], G_IO_IN, 0};

  /* only b's write end is ready (writable), in its G_IO_OUT entry only */
  n = bench_epoll_poll (fds, 4, 0);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_int (fds[0].revents, 0);
  fail_unless_equals_int (fds[1].revents, 0);
  fail_unless_equals_int (fds[2].revents, G_IO_OUT);
  fail_unless_equals_int (fds[3].revents, 0);

  fail_unless_equals_int (write (a[1], "x", 1), 1);
  n = bench_epoll_poll (fds, 4, 1000);
  fail_unless_equals_int (n, 2);
  fail_unless_equals_int (fds[0].revents, G_IO_IN);
  fail_unless_equals_int (fds[2].revents, G_IO_OUT);

  /* level-triggered: still readable until read */
  n = bench_epoll_poll (fds, 1, 0);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_int (fds[0].revents, G_IO_IN);

  /* the writer gone: HUP, reported although not asked for */
  close (a[1]);
  fail_unless_equals_int (read (a[0], (gchar[1]) {
          0}, 1), 1);
  n = bench_epoll_poll (fds, 2, 1000);
  fail_unless_equals_int (n, 1);
  fail_unless (fds[0].revents & G_IO_HUP);
  fail_unless_equals_int (fds[1].revents, 0);

  /* a closed fd: G_IO_NVAL like poll(), once the sweep has seen it (the
   * kernel dropped it from the set silently); generous deadline */
  close (a[0]);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  do {
    n = bench_epoll_poll (fds, 2, 50);
  } while (n == 0 && g_get_monotonic_time () < deadline);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_int (fds[0].revents, G_IO_NVAL);

  /* nothing ready: the timeout passes */
  n = bench_epoll_poll (&fds[1], 1, 10);
  fail_unless_equals_int (n, 0);
  fail_unless_equals_int (fds[1].revents, 0);

  close (b[0]);
  close (b[1]);
}

GST_END_TEST;

/* An fd left out of a poll is dropped from the set (it reports nothing
 * then) and registered again when it comes back; an fd number closed and
 * reused between two polls is repaired by the sweep. */
GST_START_TEST (test_epoll_set_changes)
{
  gint a[2], b[2], c[2];
  GPollFD fd;
  gint n, reused_read;
  gint64 deadline;

  make_pipe (a);
  make_pipe (b);
  fd = (GPollFD) {
  a[0], G_IO_IN, 0};
  n = bench_epoll_poll (&fd, 1, 0);
  fail_unless_equals_int (n, 0);

  /* a poll without a[0]; then a[0] again, now readable */
  fail_unless_equals_int (write (a[1], "x", 1), 1);
  fd = (GPollFD) {
  b[0], G_IO_IN, 0};
  fail_unless_equals_int (bench_epoll_poll (&fd, 1, 0), 0);
  fd = (GPollFD) {
  a[0], G_IO_IN, 0};
  fail_unless_equals_int (bench_epoll_poll (&fd, 1, 1000), 1);
  fail_unless_equals_int (fd.revents, G_IO_IN);

  /* a[0] closed and its number reused at once by a new pipe, with data:
   * reported once the sweep has repaired the registration (generous
   * deadline: the sweep runs every BENCH_POLL_SWEEP_US) */
  reused_read = a[0];
  close (a[0]);
  close (a[1]);
  make_pipe (c);
  if (c[0] != reused_read) {
    /* the number went to the write end: use that end's readiness */
    fd = (GPollFD) {
    reused_read, c[0] == reused_read ? G_IO_IN : G_IO_OUT, 0};
  } else {
    fail_unless_equals_int (write (c[1], "y", 1), 1);
  }
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  do {
    n = bench_epoll_poll (&fd, 1, 50);
  } while (n == 0 && g_get_monotonic_time () < deadline);
  fail_unless_equals_int (n, 1);
  fail_unless (fd.revents != 0 && !(fd.revents & G_IO_NVAL));

  close (b[0]);
  close (b[1]);
  close (c[0]);
  close (c[1]);
}

GST_END_TEST;

static gboolean
on_readable (GIOChannel * channel, GIOCondition condition, gpointer data)
{
  gboolean *seen = data;

  *seen = TRUE;
  return G_SOURCE_REMOVE;
}

/* As a GMainContext's poll function: sources fire as with GLib's own. */
GST_START_TEST (test_epoll_main_context)
{
  GMainContext *context = g_main_context_new ();
  GIOChannel *channel;
  GSource *source;
  gboolean seen = FALSE;
  gint p[2];
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_main_context_set_poll_func (context, bench_epoll_poll);
  make_pipe (p);
  channel = g_io_channel_unix_new (p[0]);
  source = g_io_create_watch (channel, G_IO_IN);
  g_source_set_callback (source, (GSourceFunc) on_readable, &seen, NULL);
  g_source_attach (source, context);
  fail_unless_equals_int (write (p[1], "z", 1), 1);
  while (!seen && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
  fail_unless (seen);

  g_source_destroy (source);
  g_source_unref (source);
  g_io_channel_unref (channel);
  close (p[0]);
  close (p[1]);
  g_main_context_unref (context);
}

GST_END_TEST;

static Suite *
bench_unit_suite (void)
{
  Suite *s = suite_create ("bench_unit");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_code_round_trip);
  tcase_add_test (tc, test_code_parity_and_marker);
  tcase_add_test (tc, test_burst_frames);
  tcase_add_test (tc, test_onset_needs_quiet);
  tcase_add_test (tc, test_percentiles);
  tcase_add_test (tc, test_proc_parse);
  tcase_add_test (tc, test_epoll_like_poll);
  tcase_add_test (tc, test_epoll_set_changes);
  tcase_add_test (tc, test_epoll_main_context);
  return s;
}

GST_CHECK_MAIN (bench_unit);
