/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What realtime-bridge-bench prints (a table) and writes (JSON).
 */
#ifndef __BENCH_REPORT_H__
#define __BENCH_REPORT_H__

#include <stdio.h>
#include <json-glib/json-glib.h>

#include "benchstep.h"

G_BEGIN_DECLS

/* One measured step of one pipeline. */
typedef struct
{
  const gchar *pipeline_name;   /* transcode, passthrough, transcode-q0 ... */
  gint resample_quality;        /* audioresample quality, -1: no resampler */
  BenchStepResult result;
} BenchRow;

/* Whether the step met the "no failure" bar: every call went as asked,
 * every session was matched, no burst or response lost, no audio short. */
gboolean bench_row_ok (const BenchRow * row);

void bench_report_table_header (FILE * out);
void bench_report_table_row (FILE * out, const BenchRow * row);

/* The whole run: @machine and @parameters as given, one object per row. */
JsonNode *bench_report_json (JsonObject * machine, JsonObject * parameters,
    const BenchRow * rows, guint n_rows);
JsonObject *bench_row_to_json (const BenchRow * row);

G_END_DECLS

#endif
