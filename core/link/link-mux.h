/* link-mux.h — one CAN link shared by several users. A gs_usb adapter or
 * a SocketCAN interface is opened once; each ISO-TP channel gets a branch
 * link of its own, with its own filters and receive queue, so that every
 * module can be talked to at the same time over one adapter.
 */
#pragma once

#include "link.h"

G_BEGIN_DECLS

typedef struct _EwLinkMux EwLinkMux;

/* Reads trunk (a ref is kept) from a thread of its own and hands each
 * frame to every branch whose filters pass it. transfer full */
EwLinkMux *ew_link_mux_new          (EwLink    *trunk);
EwLinkMux *ew_link_mux_ref          (EwLinkMux *mux);
/* The last reference stops the reader; branches still open then fail
 * with EW_LINK_ERROR_CLOSED. */
void       ew_link_mux_unref        (EwLinkMux *mux);
EwLink    *ew_link_mux_get_trunk    (EwLinkMux *mux);  /* transfer none */
/* A new branch: sends go out on the trunk; receives see only frames
 * that arrived after it was opened. transfer full */
EwLink    *ew_link_mux_open_branch  (EwLinkMux *mux);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwLinkMux, ew_link_mux_unref)

G_END_DECLS
