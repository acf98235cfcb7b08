#ifndef SESSIOND_CNGHTTP2_SHIM_H
#define SESSIOND_CNGHTTP2_SHIM_H
// We target the nghttp2 1.52 API (Debian 12). Newer `*2` names are bridged here, so an
// upgrade edits only this header.
#include <nghttp2/nghttp2.h>
#endif
