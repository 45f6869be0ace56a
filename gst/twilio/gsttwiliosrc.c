/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-twiliosrc
 * @title: twiliosrc
 *
 * Receives a call's audio from Twilio Media Streams.
 *
 * SKELETON: this version does not yet accept a WebSocket. It goes live and
 * produces nothing until it is stopped.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 twiliosrc ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwiliosrc.h"
#include "gsttwiliostream.h"

GST_DEBUG_CATEGORY_STATIC (gst_twilio_src_debug);
#define GST_CAT_DEFAULT gst_twilio_src_debug

enum
{
  PROP_0,
  PROP_STREAM,
};

#define DEFAULT_STREAM "default"

struct _GstTwilioSrc
{
  GstPushSrc parent;

  gchar *stream_name;
  GstTwilioStream *stream;

  GMutex lock;
  GCond cond;
  gboolean flushing;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1"));

#define gst_twilio_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTwilioSrc, gst_twilio_src, GST_TYPE_PUSH_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_twilio_src_debug, "twiliosrc", 0,
        "Twilio Media Streams source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (twiliosrc, "twiliosrc", GST_RANK_NONE,
    GST_TYPE_TWILIO_SRC, twilio_element_init (plugin));

static void gst_twilio_src_finalize (GObject * object);
static void gst_twilio_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_twilio_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_twilio_src_start (GstBaseSrc * src);
static gboolean gst_twilio_src_stop (GstBaseSrc * src);
static gboolean gst_twilio_src_unlock (GstBaseSrc * src);
static gboolean gst_twilio_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_twilio_src_create (GstPushSrc * src, GstBuffer ** buf);

static void
gst_twilio_src_class_init (GstTwilioSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_twilio_src_finalize;
  gobject_class->set_property = gst_twilio_src_set_property;
  gobject_class->get_property = gst_twilio_src_get_property;

  /**
   * GstTwilioSrc:stream:
   *
   * Name of the stream object shared with the twiliosink of the same call.
   */
  g_object_class_install_property (gobject_class, PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Name of the stream shared with the twiliosink of the same call",
          DEFAULT_STREAM, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Twilio Media Streams source", "Source/Audio/Network",
      "Receives a phone call's audio from Twilio Media Streams (skeleton)",
      "gst-realtime-bridge developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_twilio_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_twilio_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_twilio_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_twilio_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_twilio_src_create);
}

static void
gst_twilio_src_init (GstTwilioSrc * self)
{
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->stream_name = g_strdup (DEFAULT_STREAM);
}

static void
gst_twilio_src_finalize (GObject * object)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

  g_free (self->stream_name);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_twilio_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

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
gst_twilio_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

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
gst_twilio_src_start (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  GST_OBJECT_LOCK (self);
  self->stream = gst_twilio_stream_get (self->stream_name);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_twilio_src_stop (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  g_clear_pointer (&self->stream, gst_twilio_stream_unref);
  return TRUE;
}

static gboolean
gst_twilio_src_unlock (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_twilio_src_unlock_stop (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstFlowReturn
gst_twilio_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  /* Skeleton: nothing arrives yet; wait until unlock(). */
  g_mutex_lock (&self->lock);
  while (!self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_FLUSHING;
}
