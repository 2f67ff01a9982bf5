/* link.h — a CAN link: something that sends and receives CAN frames (the
 * simulated bus, SocketCAN, later gs_usb). Links are opened by URI:
 * "sim:NAME[?query]", "socketcan:IFACE", "gsusb:…", "doip:…".
 * All calls are synchronous and safe to use from several threads.
 */
#pragma once

#include <gio/gio.h>

#include "can-frame.h"

G_BEGIN_DECLS

#define EW_LINK_ERROR (ew_link_error_quark ())

typedef enum {
  EW_LINK_ERROR_BAD_URI,        /* empty, unknown scheme, malformed */
  EW_LINK_ERROR_NOT_FOUND,      /* no such interface or device */
  EW_LINK_ERROR_NOT_SUPPORTED,  /* transport not in this build or kernel */
  EW_LINK_ERROR_TIMEOUT,        /* nothing within the timeout */
  EW_LINK_ERROR_CLOSED,         /* the link was closed */
  EW_LINK_ERROR_IO,             /* the driver or socket failed */
} EwLinkError;

GQuark ew_link_error_quark (void);

/* A frame passes when (frame id & mask) == (id & mask) and its id width
 * matches is_extended. */
typedef struct {
  guint32  id;
  guint32  mask;
  gboolean is_extended;
} EwCanFilter;

gboolean ew_can_filter_matches (const EwCanFilter *filters,
                                gsize              n_filters,
                                const EwCanFrame  *frame);

#define EW_TYPE_LINK (ew_link_get_type ())
G_DECLARE_DERIVABLE_TYPE (EwLink, ew_link, EW, LINK, GObject)

struct _EwLinkClass {
  GObjectClass parent_class;

  gboolean (*send)        (EwLink           *link,
                           const EwCanFrame *frame,
                           gint              timeout_ms,
                           GCancellable     *cancellable,
                           GError          **error);
  gboolean (*receive)     (EwLink           *link,
                           EwCanFrame       *frame,
                           gint              timeout_ms,
                           GCancellable     *cancellable,
                           GError          **error);
  gboolean (*set_filters) (EwLink            *link,
                           const EwCanFilter *filters,
                           gsize              n_filters,
                           GError           **error);
  void     (*close)       (EwLink           *link);

  gpointer padding[8];
};

/* Opens the link named by uri. transfer full */
EwLink     *ew_link_open        (const char        *uri,
                                 GError           **error);

const char *ew_link_get_uri     (EwLink            *link);
/* A short name for logs and the UI, e.g. "sim:golf7" or "can0". */
const char *ew_link_get_name    (EwLink            *link);

/* Sends one frame, waiting up to timeout_ms (negative: no limit) for the
 * bus or the controller to take it. */
gboolean    ew_link_send        (EwLink            *link,
                                 const EwCanFrame  *frame,
                                 gint               timeout_ms,
                                 GCancellable      *cancellable,
                                 GError           **error);
/* Waits up to timeout_ms (negative: no limit, 0: only what is queued) for
 * the next frame that passes the filters. */
gboolean    ew_link_receive     (EwLink            *link,
                                 EwCanFrame        *frame,
                                 gint               timeout_ms,
                                 GCancellable      *cancellable,
                                 GError           **error);
/* Replaces the receive filters; n_filters == 0 receives everything. */
gboolean    ew_link_set_filters (EwLink            *link,
                                 const EwCanFilter *filters,
                                 gsize              n_filters,
                                 GError           **error);
/* Closes the link; blocked and later calls fail with EW_LINK_ERROR_CLOSED.
 * Closing twice is fine. */
void        ew_link_close       (EwLink            *link);
gboolean    ew_link_is_closed   (EwLink            *link);

G_END_DECLS
