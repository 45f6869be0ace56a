/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-twiliosink
 * @title: twiliosink
 *
 * Sends audio to the caller over Twilio Media Streams.
 *
 * SKELETON: this version does not send anything yet; it accepts and
 * discards μ-law audio.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc ! mulawenc ! twiliosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwiliosink.h"
#include "gsttwiliostream.h"

GST_DEBUG_CATEGORY_STATIC (gst_twilio_sink_debug);
#define GST_CAT_DEFAULT gst_twilio_sink_debug

enum
{
  PROP_0,
  PROP_STREAM,
};

#define DEFAULT_STREAM "default"

struct _GstTwilioSink
{
  GstBaseSink parent;

  gchar *stream_name;
  GstTwilioStream *stream;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1"));

#define gst_twilio_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTwilioSink, gst_twilio_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_twilio_sink_debug, "twiliosink", 0,
        "Twilio Media Streams sink"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (twiliosink, "twiliosink",
    GST_RANK_NONE, GST_TYPE_TWILIO_SINK, twilio_element_init (plugin));

static void gst_twilio_sink_finalize (GObject * object);
static void gst_twilio_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_twilio_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_twilio_sink_start (GstBaseSink * sink);
static gboolean gst_twilio_sink_stop (GstBaseSink * sink);
static GstFlowReturn gst_twilio_sink_render (GstBaseSink * sink,
    GstBuffer * buf);

static void
gst_twilio_sink_class_init (GstTwilioSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_twilio_sink_finalize;
  gobject_class->set_property = gst_twilio_sink_set_property;
  gobject_class->get_property = gst_twilio_sink_get_property;

  /**
   * GstTwilioSink:stream:
   *
   * Name of the stream object shared with the twiliosrc of the same call.
   */
  g_object_class_install_property (gobject_class, PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Name of the stream shared with the twiliosrc of the same call",
          DEFAULT_STREAM, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Twilio Media Streams sink", "Sink/Audio/Network",
      "Sends audio to a phone call over Twilio Media Streams (skeleton)",
      "gst-realtime-bridge developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_twilio_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_twilio_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_twilio_sink_render);
}

static void
gst_twilio_sink_init (GstTwilioSink * self)
{
  self->stream_name = g_strdup (DEFAULT_STREAM);
}

static void
gst_twilio_sink_finalize (GObject * object)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  g_free (self->stream_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_twilio_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_free (self->stream_name);
      self->stream_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_twilio_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_value_set_string (value, self->stream_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_twilio_sink_start (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  GST_OBJECT_LOCK (self);
  self->stream = gst_twilio_stream_get (self->stream_name);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_twilio_sink_stop (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  g_clear_pointer (&self->stream, gst_twilio_stream_unref);
  return TRUE;
}

static GstFlowReturn
gst_twilio_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  /* Skeleton: nothing is sent yet. */
  return GST_FLOW_OK;
}
