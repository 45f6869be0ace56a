/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-openairealtimesink
 * @title: openairealtimesink
 *
 * Sends audio to the OpenAI Realtime model.
 *
 * SKELETON: this version does not send anything yet; it accepts and
 * discards the audio.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc ! audioconvert ! audioresample ! openairealtimesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesink.h"
#include "gstopenairealtimesession.h"

GST_DEBUG_CATEGORY_STATIC (gst_openai_realtime_sink_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_sink_debug

enum
{
  PROP_0,
  PROP_SESSION,
};

#define DEFAULT_SESSION "default"

struct _GstOpenAIRealtimeSink
{
  GstBaseSink parent;

  gchar *session_name;
  GstOpenAIRealtimeSession *session;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS
    ("audio/x-raw, format = (string) S16LE, layout = (string) interleaved, rate = (int) 24000, channels = (int) 1"));

#define gst_openai_realtime_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstOpenAIRealtimeSink, gst_openai_realtime_sink,
    GST_TYPE_BASE_SINK, GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_sink_debug,
        "openairealtimesink", 0, "OpenAI Realtime sink"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (openairealtimesink, "openairealtimesink",
    GST_RANK_NONE, GST_TYPE_OPENAI_REALTIME_SINK,
    openai_realtime_element_init (plugin));

static void gst_openai_realtime_sink_finalize (GObject * object);
static void gst_openai_realtime_sink_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_openai_realtime_sink_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_openai_realtime_sink_start (GstBaseSink * sink);
static gboolean gst_openai_realtime_sink_stop (GstBaseSink * sink);
static GstFlowReturn gst_openai_realtime_sink_render (GstBaseSink * sink,
    GstBuffer * buf);

static void
gst_openai_realtime_sink_class_init (GstOpenAIRealtimeSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_openai_realtime_sink_finalize;
  gobject_class->set_property = gst_openai_realtime_sink_set_property;
  gobject_class->get_property = gst_openai_realtime_sink_get_property;

  /**
   * GstOpenAIRealtimeSink:session:
   *
   * Name of the Realtime session shared with the openairealtimesrc of the same call.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION,
      g_param_spec_string ("session", "Session",
          "Name of the Realtime session shared with the openairealtimesrc of the same call",
          DEFAULT_SESSION, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "OpenAI Realtime sink", "Sink/Audio/Network",
      "Sends audio to the OpenAI Realtime model (skeleton)",
      "gst-realtime-bridge developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_render);
}

static void
gst_openai_realtime_sink_init (GstOpenAIRealtimeSink * self)
{
  self->session_name = g_strdup (DEFAULT_SESSION);
}

static void
gst_openai_realtime_sink_finalize (GObject * object)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);

  g_free (self->session_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_openai_realtime_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SESSION:
      g_free (self->session_name);
      self->session_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_openai_realtime_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SESSION:
      g_value_set_string (value, self->session_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_openai_realtime_sink_start (GstBaseSink * sink)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);

  GST_OBJECT_LOCK (self);
  self->session = gst_openai_realtime_session_get (self->session_name);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_openai_realtime_sink_stop (GstBaseSink * sink)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);

  g_clear_pointer (&self->session, gst_openai_realtime_session_unref);
  return TRUE;
}

static GstFlowReturn
gst_openai_realtime_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  /* Skeleton: nothing is sent yet. */
  return GST_FLOW_OK;
}
