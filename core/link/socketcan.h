/* socketcan.h — a raw CAN link on a Linux SocketCAN interface (AF_CAN,
 * CAN_RAW): can0, vcan0, slcan0 … Filters are applied by the kernel.
 */
#pragma once

#include "link.h"

G_BEGIN_DECLS

#define EW_TYPE_SOCKETCAN_LINK (ew_socketcan_link_get_type ())
G_DECLARE_FINAL_TYPE (EwSocketcanLink, ew_socketcan_link, EW, SOCKETCAN_LINK, EwLink)

/* Opens interface_name; uri is kept for ew_link_get_uri() and may be NULL.
 * transfer full */
EwLink *ew_socketcan_link_open (const char  *uri,
                                const char  *interface_name,
                                GError     **error);

G_END_DECLS
