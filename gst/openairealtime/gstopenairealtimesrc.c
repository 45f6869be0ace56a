/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-openairealtimesrc
 * @title: openairealtimesrc
 *
 * Plays the OpenAI Realtime model's spoken answers.
 *
 * SKELETON: this version does not yet connect to the model. It goes live and
 * produces nothing until it is stopped.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 openairealtimesrc ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesrc.h"
#include "gstopenairealtimesession.h"

GST_DEBUG_CATEGORY_STATIC (gst_openai_realtime_src_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_src_debug

enum
{
  PROP_0,
  PROP_SESSION,
};

#define DEFAULT_SESSION "default"

struct _GstOpenAIRealtimeSrc
{
  GstPushSrc parent;

  gchar *session_name;
  GstOpenAIRealtimeSession *session;

  GMutex lock;
  GCond cond;
  gboolean flushing;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS
    ("audio/x-raw, format = (string) S16LE, layout = (string) interleaved, rate = (int) 24000, channels = (int) 1"));

#define gst_openai_realtime_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstOpenAIRealtimeSrc, gst_openai_realtime_src,
    GST_TYPE_PUSH_SRC, GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_src_debug,
        "openairealtimesrc", 0, "OpenAI Realtime source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (openairealtimesrc, "openairealtimesrc",
    GST_RANK_NONE, GST_TYPE_OPENAI_REALTIME_SRC,
    openai_realtime_element_init (plugin));

static void gst_openai_realtime_src_finalize (GObject * object);
static void gst_openai_realtime_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_openai_realtime_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_openai_realtime_src_start (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_stop (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_unlock (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_openai_realtime_src_create (GstPushSrc * src,
    GstBuffer ** buf);

static void
gst_openai_realtime_src_class_init (GstOpenAIRealtimeSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_openai_realtime_src_finalize;
  gobject_class->set_property = gst_openai_realtime_src_set_property;
  gobject_class->get_property = gst_openai_realtime_src_get_property;

  /**
   * GstOpenAIRealtimeSrc:session:
   *
   * Name of the Realtime session shared with the openairealtimesink of the same call.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION,
      g_param_spec_string ("session", "Session",
          "Name of the Realtime session shared with the openairealtimesink of the same call",
          DEFAULT_SESSION, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "OpenAI Realtime source", "Source/Audio/Network",
      "Plays the audio answers of the OpenAI Realtime model (skeleton)",
      "gst-realtime-bridge developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_create);
}

static void
gst_openai_realtime_src_init (GstOpenAIRealtimeSrc * self)
{
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->session_name = g_strdup (DEFAULT_SESSION);
}

static void
gst_openai_realtime_src_finalize (GObject * object)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);

  g_free (self->session_name);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_openai_realtime_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);

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
gst_openai_realtime_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);

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
gst_openai_realtime_src_start (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  GST_OBJECT_LOCK (self);
  self->session = gst_openai_realtime_session_get (self->session_name);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_stop (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  g_clear_pointer (&self->session, gst_openai_realtime_session_unref);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_unlock (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_unlock_stop (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstFlowReturn
gst_openai_realtime_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  /* Skeleton: nothing arrives yet; wait until unlock(). */
  g_mutex_lock (&self->lock);
  while (!self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_FLUSHING;
}
