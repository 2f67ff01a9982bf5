/* link.c — the EwLink base class and the URI dispatcher. */
#include "link.h"

#include <string.h>

#include "gsusb.h"
#include "sim-bus.h"
#include "socketcan.h"

G_DEFINE_QUARK (ew-link-error-quark, ew_link_error)

typedef struct {
  char     *uri;
  char     *name;
  gboolean  is_closed;   /* atomic */
} EwLinkPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (EwLink, ew_link, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_URI,
  PROP_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

gboolean
ew_can_filter_matches (const EwCanFilter *filters,
                       gsize              n_filters,
                       const EwCanFrame  *frame)
{
  if (n_filters == 0)
    return TRUE;
  for (gsize i = 0; i < n_filters; i++)
    {
      const EwCanFilter *f = &filters[i];

      if (!f->is_extended != !frame->is_extended)
        continue;
      if ((frame->id & f->mask) == (f->id & f->mask))
        return TRUE;
    }
  return FALSE;
}

static void
ew_link_finalize (GObject *object)
{
  EwLinkPrivate *priv = ew_link_get_instance_private (EW_LINK (object));

  g_free (priv->uri);
  g_free (priv->name);
  G_OBJECT_CLASS (ew_link_parent_class)->finalize (object);
}

static void
ew_link_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  EwLinkPrivate *priv = ew_link_get_instance_private (EW_LINK (object));

  switch (prop_id)
    {
    case PROP_URI:
      g_value_set_string (value, priv->uri);
      break;
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_link_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  EwLinkPrivate *priv = ew_link_get_instance_private (EW_LINK (object));

  switch (prop_id)
    {
    case PROP_URI:
      g_free (priv->uri);
      priv->uri = g_value_dup_string (value);
      break;
    case PROP_NAME:
      g_free (priv->name);
      priv->name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_link_class_init (EwLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ew_link_finalize;
  object_class->get_property = ew_link_get_property;
  object_class->set_property = ew_link_set_property;

  properties[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ew_link_init (EwLink *self)
{
}

const char *
ew_link_get_uri (EwLink *link)
{
  EwLinkPrivate *priv;

  g_return_val_if_fail (EW_IS_LINK (link), NULL);
  priv = ew_link_get_instance_private (link);
  return priv->uri;
}

const char *
ew_link_get_name (EwLink *link)
{
  EwLinkPrivate *priv;

  g_return_val_if_fail (EW_IS_LINK (link), NULL);
  priv = ew_link_get_instance_private (link);
  return priv->name != NULL ? priv->name : priv->uri;
}

gboolean
ew_link_send (EwLink            *link,
              const EwCanFrame  *frame,
              gint               timeout_ms,
              GCancellable      *cancellable,
              GError           **error)
{
  g_return_val_if_fail (EW_IS_LINK (link), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (frame->len > EW_CAN_MAX_DLEN)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "Link %s: a frame of %u data bytes needs CAN FD, which this link does not carry",
                   ew_link_get_name (link), frame->len);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return EW_LINK_GET_CLASS (link)->send (link, frame, timeout_ms, cancellable, error);
}

gboolean
ew_link_receive (EwLink        *link,
                 EwCanFrame    *frame,
                 gint           timeout_ms,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_return_val_if_fail (EW_IS_LINK (link), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return EW_LINK_GET_CLASS (link)->receive (link, frame, timeout_ms, cancellable, error);
}

gboolean
ew_link_set_filters (EwLink             *link,
                     const EwCanFilter  *filters,
                     gsize               n_filters,
                     GError            **error)
{
  g_return_val_if_fail (EW_IS_LINK (link), FALSE);
  g_return_val_if_fail (n_filters == 0 || filters != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return EW_LINK_GET_CLASS (link)->set_filters (link, filters, n_filters, error);
}

void
ew_link_close (EwLink *link)
{
  EwLinkPrivate *priv;

  g_return_if_fail (EW_IS_LINK (link));
  priv = ew_link_get_instance_private (link);
  if (g_atomic_int_exchange (&priv->is_closed, TRUE))
    return;
  EW_LINK_GET_CLASS (link)->close (link);
}

gboolean
ew_link_is_closed (EwLink *link)
{
  EwLinkPrivate *priv;

  g_return_val_if_fail (EW_IS_LINK (link), TRUE);
  priv = ew_link_get_instance_private (link);
  return g_atomic_int_get (&priv->is_closed);
}

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.';
}

static EwLink *
open_sim (const char  *uri,
          const char  *rest,
          GError     **error)
{
  const char *query = strchr (rest, '?');
  g_autofree char *bus_name = query != NULL ? g_strndup (rest, query - rest) : g_strdup (rest);
  g_autoptr(GHashTable) parameters = NULL;
  g_autoptr(EwSimBus) bus = NULL;

  if (bus_name[0] == '\0')
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                   "Link URI “%s”: sim: needs a vehicle family or bus name, e.g. sim:golf7",
                   uri);
      return NULL;
    }
  for (const char *p = bus_name; *p != '\0'; p++)
    if (!is_name_char (*p))
      {
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                     "Link URI “%s”: character “%c” at position %d is not allowed in a sim: name "
                     "(letters, digits, “-”, “_” and “.” are)",
                     uri, *p, (int) (p - bus_name) + 4);
        return NULL;
      }

  if (query != NULL)
    {
      g_autoptr(GError) local_error = NULL;

      parameters = g_uri_parse_params (query + 1, -1, "&", G_URI_PARAMS_NONE, &local_error);
      if (parameters == NULL)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: the query after “?” is malformed: %s",
                       uri, local_error->message);
          return NULL;
        }
    }

  bus = ew_sim_bus_get (bus_name);
  return EW_LINK (ew_sim_link_new_full (bus, uri, parameters));
}

EwLink *
ew_link_open (const char  *uri,
              GError     **error)
{
  const char *colon;
  g_autofree char *scheme = NULL;
  const char *rest;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (uri == NULL || *uri == '\0')
    {
      g_set_error_literal (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                           "The link URI is empty; use sim:FAMILY, socketcan:IFACE, "
                           "gsusb:[VID:PID][@SERIAL] or doip:HOST[:PORT]");
      return NULL;
    }

  colon = strchr (uri, ':');
  if (colon == NULL || colon == uri)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                   "Link URI “%s” has no scheme; use sim:FAMILY, socketcan:IFACE, "
                   "gsusb:[VID:PID][@SERIAL] or doip:HOST[:PORT]", uri);
      return NULL;
    }
  scheme = g_ascii_strdown (uri, colon - uri);
  rest = colon + 1;

  if (g_str_equal (scheme, "sim"))
    return open_sim (uri, rest, error);

  if (g_str_equal (scheme, "socketcan"))
    {
      if (*rest == '\0')
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: socketcan: needs an interface name, e.g. socketcan:can0",
                       uri);
          return NULL;
        }
      /* IFNAMSIZ is 16 including the terminator */
      if (strlen (rest) > 15)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: interface name “%s” is longer than 15 characters",
                       uri, rest);
          return NULL;
        }
      for (const char *p = rest; *p != '\0'; p++)
        if (!is_name_char (*p))
          {
            g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                         "Link URI “%s”: character “%c” is not allowed in an interface name",
                         uri, *p);
            return NULL;
          }
      return ew_socketcan_link_open (uri, rest, error);
    }

  if (g_str_equal (scheme, "gsusb"))
    return ew_gsusb_link_open (uri, rest, error);

  if (g_str_equal (scheme, "doip"))
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "Link URI “%s”: DoIP (ISO 13400-2) carries whole diagnostic messages, "
                   "not CAN frames; it is opened as a connection to a car, not as a CAN link",
                   uri);
      return NULL;
    }

  g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
               "Link URI “%s”: unknown scheme “%s”; use sim:, socketcan:, gsusb: or doip:",
               uri, scheme);
  return NULL;
}
