/* socketcan.c — raw SocketCAN link. Waits use poll() on the socket and on
 * the cancellable's file descriptor, so a blocked call ends at once when
 * the caller cancels or the link is closed.
 */
#include "socketcan.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include <glib/gstdio.h>

struct _EwSocketcanLink {
  EwLink         parent_instance;
  int            fd;
  char          *interface_name;
  GCancellable  *closing;      /* cancelled by close, wakes every waiter */
};

G_DEFINE_FINAL_TYPE (EwSocketcanLink, ew_socketcan_link, EW_TYPE_LINK)

/* Waits for events on the socket. Returns 1 when ready, 0 on timeout,
 * -1 with error set. */
static int
wait_fd (EwSocketcanLink  *self,
         short             events,
         gint              timeout_ms,
         GCancellable     *cancellable,
         GError          **error)
{
  struct pollfd fds[3] = { { .fd = self->fd, .events = events } };
  nfds_t n = 1;
  gboolean has_cancel_fd = FALSE;
  gboolean has_closing_fd = FALSE;
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int result = -1;

  /* struct pollfd and GPollFD share their layout on Linux */
  if (g_cancellable_make_pollfd (self->closing, (GPollFD *) &fds[n]))
    {
      n++;
      has_closing_fd = TRUE;
    }
  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, (GPollFD *) &fds[n]))
    {
      n++;
      has_cancel_fd = TRUE;
    }

  for (;;)
    {
      int wait_ms = -1;
      int r;

      if (deadline >= 0)
        wait_ms = (int) MAX ((deadline - g_get_monotonic_time () + 999) / 1000, 0);
      r = poll (fds, n, wait_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;

          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                       "Link %s: poll failed: %s", ew_link_get_name (EW_LINK (self)),
                       g_strerror (saved));
          break;
        }
      if (ew_link_is_closed (EW_LINK (self)))
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED,
                       "Link %s is closed", ew_link_get_name (EW_LINK (self)));
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (r == 0)
        {
          result = 0;
          break;
        }
      if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                       "Link %s: the interface reported an error or went down",
                       ew_link_get_name (EW_LINK (self)));
          break;
        }
      if (fds[0].revents & events)
        {
          result = 1;
          break;
        }
    }

  if (has_cancel_fd)
    g_cancellable_release_fd (cancellable);
  if (has_closing_fd)
    g_cancellable_release_fd (self->closing);
  return result;
}

static gboolean
ew_socketcan_link_send (EwLink            *link,
                        const EwCanFrame  *frame,
                        gint               timeout_ms,
                        GCancellable      *cancellable,
                        GError           **error)
{
  EwSocketcanLink *self = EW_SOCKETCAN_LINK (link);
  struct can_frame cf = { 0 };
  int r;

  cf.can_id = frame->is_extended ? (frame->id & CAN_EFF_MASK) | CAN_EFF_FLAG
                                 : frame->id & CAN_SFF_MASK;
  if (frame->is_rtr)
    cf.can_id |= CAN_RTR_FLAG;
  cf.len = frame->len;
  memcpy (cf.data, frame->data, MIN (frame->len, CAN_MAX_DLEN));

  for (;;)
    {
      ssize_t n;

      r = wait_fd (self, POLLOUT, timeout_ms, cancellable, error);
      if (r < 0)
        return FALSE;
      if (r == 0)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: the transmit queue stayed full for %d ms",
                       ew_link_get_name (link), timeout_ms);
          return FALSE;
        }
      n = write (self->fd, &cf, sizeof cf);
      if (n == sizeof cf)
        return TRUE;
      if (n < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR))
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                       "Link %s: sending a frame failed: %s", ew_link_get_name (link),
                       g_strerror (saved));
        }
      else
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                     "Link %s: the kernel took %zd of %zu bytes of a frame",
                     ew_link_get_name (link), n, sizeof cf);
      return FALSE;
    }
}

static gboolean
ew_socketcan_link_receive (EwLink        *link,
                           EwCanFrame    *frame,
                           gint           timeout_ms,
                           GCancellable  *cancellable,
                           GError       **error)
{
  EwSocketcanLink *self = EW_SOCKETCAN_LINK (link);

  for (;;)
    {
      struct can_frame cf;
      ssize_t n;
      int r = wait_fd (self, POLLIN, timeout_ms, cancellable, error);

      if (r < 0)
        return FALSE;
      if (r == 0)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: no frame within %d ms", ew_link_get_name (link), timeout_ms);
          return FALSE;
        }
      n = read (self->fd, &cf, sizeof cf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                       "Link %s: receiving a frame failed: %s", ew_link_get_name (link),
                       g_strerror (saved));
          return FALSE;
        }
      /* CAN FD frames are not enabled on the socket, so anything else is
       * a driver fault */
      if (n != sizeof cf)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                       "Link %s: read %zd bytes, a CAN frame is %zu",
                       ew_link_get_name (link), n, sizeof cf);
          return FALSE;
        }

      memset (frame, 0, sizeof *frame);
      frame->is_extended = (cf.can_id & CAN_EFF_FLAG) != 0;
      frame->is_rtr = (cf.can_id & CAN_RTR_FLAG) != 0;
      frame->is_error = (cf.can_id & CAN_ERR_FLAG) != 0;
      frame->id = cf.can_id & (frame->is_extended ? CAN_EFF_MASK : CAN_SFF_MASK);
      frame->len = MIN (cf.len, CAN_MAX_DLEN);
      memcpy (frame->data, cf.data, frame->len);
      frame->timestamp_us = g_get_monotonic_time ();
      return TRUE;
    }
}

static gboolean
ew_socketcan_link_set_filters (EwLink             *link,
                               const EwCanFilter  *filters,
                               gsize               n_filters,
                               GError            **error)
{
  EwSocketcanLink *self = EW_SOCKETCAN_LINK (link);
  g_autofree struct can_filter *kf = NULL;
  struct can_filter all = { .can_id = 0, .can_mask = 0 };
  const struct can_filter *set = &all;
  socklen_t size = sizeof all;

  if (n_filters > CAN_RAW_FILTER_MAX)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "Link %s: %zu filters asked, the kernel takes at most %d",
                   ew_link_get_name (link), n_filters, CAN_RAW_FILTER_MAX);
      return FALSE;
    }
  if (n_filters > 0)
    {
      kf = g_new0 (struct can_filter, n_filters);
      for (gsize i = 0; i < n_filters; i++)
        {
          guint32 width = filters[i].is_extended ? CAN_EFF_MASK : CAN_SFF_MASK;

          /* the EFF flag in both id and mask keeps 11-bit and 29-bit ids apart */
          kf[i].can_id = (filters[i].id & width) | (filters[i].is_extended ? CAN_EFF_FLAG : 0);
          kf[i].can_mask = (filters[i].mask & width) | CAN_EFF_FLAG | CAN_RTR_FLAG;
        }
      set = kf;
      size = n_filters * sizeof *kf;
    }
  if (setsockopt (self->fd, SOL_CAN_RAW, CAN_RAW_FILTER, set, size) < 0)
    {
      int saved = errno;

      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link %s: setting receive filters failed: %s",
                   ew_link_get_name (link), g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
ew_socketcan_link_close (EwLink *link)
{
  EwSocketcanLink *self = EW_SOCKETCAN_LINK (link);

  /* the socket stays open until finalize so a thread still in poll()
   * never sees its descriptor reused */
  g_cancellable_cancel (self->closing);
}

static void
ew_socketcan_link_finalize (GObject *object)
{
  EwSocketcanLink *self = EW_SOCKETCAN_LINK (object);

  if (self->fd >= 0)
    g_close (self->fd, NULL);
  g_clear_object (&self->closing);
  g_free (self->interface_name);
  G_OBJECT_CLASS (ew_socketcan_link_parent_class)->finalize (object);
}

static void
ew_socketcan_link_class_init (EwSocketcanLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  EwLinkClass *link_class = EW_LINK_CLASS (klass);

  object_class->finalize = ew_socketcan_link_finalize;
  link_class->send = ew_socketcan_link_send;
  link_class->receive = ew_socketcan_link_receive;
  link_class->set_filters = ew_socketcan_link_set_filters;
  link_class->close = ew_socketcan_link_close;
}

static void
ew_socketcan_link_init (EwSocketcanLink *self)
{
  self->fd = -1;
  self->closing = g_cancellable_new ();
}

EwLink *
ew_socketcan_link_open (const char  *uri,
                        const char  *interface_name,
                        GError     **error)
{
  g_autoptr(EwSocketcanLink) self = NULL;
  g_autofree char *default_uri = NULL;
  struct sockaddr_can addr = { 0 };
  struct ifreq ifr = { 0 };
  int saved;

  g_return_val_if_fail (interface_name != NULL, NULL);

  if (uri == NULL)
    uri = default_uri = g_strconcat ("socketcan:", interface_name, NULL);
  if (strlen (interface_name) >= IFNAMSIZ)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                   "Link URI “%s”: interface name “%s” is too long", uri, interface_name);
      return NULL;
    }

  self = g_object_new (EW_TYPE_SOCKETCAN_LINK, "uri", uri, "name", interface_name, NULL);
  self->interface_name = g_strdup (interface_name);

  self->fd = socket (PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
  if (self->fd < 0)
    {
      saved = errno;
      g_set_error (error, EW_LINK_ERROR,
                   saved == EAFNOSUPPORT || saved == EPROTONOSUPPORT
                     ? EW_LINK_ERROR_NOT_SUPPORTED : EW_LINK_ERROR_IO,
                   "Link URI “%s”: cannot open a CAN socket (%s); this kernel may lack "
                   "SocketCAN support (modules can and can_raw)", uri, g_strerror (saved));
      return NULL;
    }

  g_strlcpy (ifr.ifr_name, interface_name, sizeof ifr.ifr_name);
  if (ioctl (self->fd, SIOCGIFINDEX, &ifr) < 0)
    {
      saved = errno;
      g_set_error (error, EW_LINK_ERROR, saved == ENODEV ? EW_LINK_ERROR_NOT_FOUND : EW_LINK_ERROR_IO,
                   "Link URI “%s”: no CAN interface “%s” (%s); check `ip link show`",
                   uri, interface_name, g_strerror (saved));
      return NULL;
    }

  addr.can_family = AF_CAN;
  addr.can_ifindex = ifr.ifr_ifindex;
  if (bind (self->fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      saved = errno;
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link URI “%s”: cannot bind to interface “%s”: %s",
                   uri, interface_name, g_strerror (saved));
      return NULL;
    }

  return EW_LINK (g_steal_pointer (&self));
}
