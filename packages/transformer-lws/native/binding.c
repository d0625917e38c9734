/*
 * Node-API binding between Primus and libwebsockets.
 *
 * Node's HTTP server accepts the TCP connection and parses the upgrade request. This binding
 * duplicates the socket's descriptor and hands it, together with the request bytes, to
 * libwebsockets, which performs the WebSocket handshake and everything after it (framing,
 * masking, fragmentation, permessage-deflate, ping/pong, the close handshake); JavaScript then
 * closes Node's own descriptor, so a connection holds one. libwebsockets runs on Node's own libuv
 * loop (a "foreign loop"), so every callback arrives on the JavaScript thread.
 *
 * One libwebsockets context serves a whole Node environment and lives as long as it does; each
 * Primus server is a vhost in it. (Tearing a context down while the process goes on is not safe
 * with libwebsockets 4.1 on a foreign loop: it closes its event-pipe descriptor twice, the second
 * time a loop iteration later, when the number may belong to a new socket.)
 *
 * The JavaScript boundary is small on purpose: a connection is a number, and everything the
 * connections report (open, text, binary, ping, error, close) is appended to one array that JavaScript
 * receives once per loop iteration. JavaScript therefore never runs inside a libwebsockets
 * callback, so nothing it calls back into (send, close, terminate) can re-enter libwebsockets for
 * a connection that is half way through being serviced.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#define NAPI_VERSION 8
#include <node_api.h>
#include <libwebsockets.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__) && defined(__x86_64__)
#include <link.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#endif

/* Event types, as JavaScript sees them. */
enum { EV_OPEN = 1, EV_TEXT = 2, EV_BINARY = 3, EV_ERROR = 4, EV_CLOSE = 5, EV_PING = 6, EV_DRAIN = 7 };

/* What adopt() returns instead of an id when it took nothing over. */
enum { ADOPT_REFUSED = -1, ADOPT_NO_DESCRIPTOR = -2, ADOPT_NO_MEMORY = -3 };

/* The first byte of a pong frame's header: FIN and opcode 0xA (RFC 6455, sections 5.2 and 5.5.3). */
#define PONG_HEADER 0x8a

/* Work a connection waits for in the idle phase, outside every libwebsockets callback. */
enum { PENDING_KICK = 1, PENDING_CLOSE = 2 };

/* Connection states. */
enum {
  CONN_HANDSHAKE = 0, /* adopted, the upgrade is being answered */
  CONN_OPEN = 1,      /* WebSocket established */
  CONN_CLOSING = 2,   /* closing with a close frame; nothing more is sent or delivered */
  CONN_KILLED = 3,    /* torn down without a close handshake */
};

/* Outgoing messages are written in fragments of this size, so one large message neither blocks
 * other connections nor makes libwebsockets copy the unsent rest of it. */
#define CHUNK (64 * 1024)
/* At most this much is written to one connection per writable callback. */
#define WRITE_BUDGET (256 * 1024)

/* One outgoing message. A broadcast shares one among every connection it goes to. */
typedef struct msg {
  uint32_t refs;
  uint8_t binary;
  size_t len;
  unsigned char buf[]; /* LWS_PRE bytes of headroom for the frame header, then the payload */
} msg_t;

typedef struct qnode {
  struct qnode *next;
  msg_t *msg;
} qnode_t;


/*
 * What the peer's frame headers have shown so far (RFC 6455, section 5). libwebsockets 4.1 does
 * not check that client frames are masked, and fails a few other violations (control frames
 * longer than 125 bytes, a 64-bit length with its top bit set, a malformed close frame) without a
 * close frame. The binding therefore looks at every byte libwebsockets reads from a connection's
 * socket before libwebsockets parses it (see hooked_recv), and fails the connection as ws does:
 * 1002 for a protocol error, 1007 for a close reason that is not UTF-8, 1009 for a length no
 * message can have. Payload bytes are skipped, except those of close frames.
 */
struct frame_check {
  uint64_t remain;  /* payload bytes of the current frame still to come */
  uint8_t hdr[14];  /* the header being collected */
  uint8_t hlen;     /* its bytes so far; 0 at a frame boundary */
  uint8_t opcode;   /* of the frame whose payload is passing */
  uint8_t continuing; /* a fragmented data message waits for its continuation */
  uint8_t compressed; /* the data message is compressed (RSV1 on its first frame) */
  uint8_t mask_at;  /* position in the masking key of the next close payload byte */
  uint8_t mask[4];
  uint8_t close_len; /* close payload bytes seen */
  uint8_t close_hi;  /* the first byte of the status code */
  uint8_t utf8_need; /* continuation bytes the close reason still owes */
  uint8_t utf8_lo, utf8_hi; /* the range the next continuation byte must fall in */
  uint64_t msg_total; /* declared bytes of the data message so far */
  uint8_t close_sent; /* after failing: the close frame is out */
  uint16_t failed;  /* the close code once the peer broke the protocol; 0 while it has not */
};

struct server;

typedef struct conn {
  struct server *srv;
  struct lws *wsi;
  uint32_t slot;
  uint32_t gen;
  uint8_t state;
  uint8_t deflate;     /* permessage-deflate is active: libwebsockets keeps pointers into messages */
  uint8_t paused;      /* reading is stopped until the send queue drains */
  uint8_t close_asked; /* close once the queue is flushed */
  uint8_t need_drain;  /* send() reported the queue above the write mark: report when it empties */
  uint8_t pending;     /* PENDING_* work waiting in the server's list */
  uint8_t rx_active, rx_binary;
  uint16_t close_code;
  uint32_t write_seq;   /* the write() call that last queued for it */
  uint32_t result_slot; /* where that call reports its queue */
  int fd; /* the descriptor libwebsockets reads from */
  struct frame_check check;
  const char *error; /* reported to JavaScript before the close */
  char *protocol;    /* the subprotocol to confirm in the handshake response, if any */
  qnode_t *head, *tail;
  size_t queued; /* bytes in the queue and in the message being written */
  msg_t *current; /* the message being written, and how much of it is out */
  size_t offset;
  msg_t *retired; /* written, but permessage-deflate may still read from it */
  unsigned char *rx; /* a message arriving in several fragments */
  size_t rx_len, rx_cap;
} conn_t;

/* What one Node environment shares: the libwebsockets context. */
typedef struct env_state {
  uv_loop_t *loop;
  struct lws_context *lws;
  void *foreign_loops[1];
  uv_handle_t *lws_handles[8]; /* the uv handles libwebsockets keeps for the whole context */
  int n_lws_handles;
  int callback_depth; /* libwebsockets callbacks on the stack */
  unsigned char *scratch;
  struct server *servers; /* live servers, for environment teardown */
  int vhosts; /* vhosts not yet destroyed, for diagnostics */
} env_t;

typedef struct server {
  env_t *e;
  napi_env env;
  struct server *next_server, *prev_server;
  struct lws_vhost *vhost;
  char name[64]; /* the vhost's name, which the request's Host header carries */
  struct lws_protocols protocols[2];
  struct lws_extension extensions[2];

  napi_ref dispatch;
  /*
   * Events for JavaScript: [type, id] pairs in a Float64Array JavaScript reads directly, and the
   * values of those that carry one (a message, an error code) in an array, in the same order.
   * Two of each, so that events raised while JavaScript handles one batch go to the other.
   */
  napi_ref events[2];
  double *event_data[2]; /* the Float64Array's elements; an ArrayBuffer's memory never moves */
  uint32_t event_cap[2]; /* in events */
  napi_ref values[2];
  int cur;           /* the pair being filled */
  uint32_t batch_len;  /* events in it */
  uint32_t values_len; /* values in it */
  napi_async_context async;
  uv_check_t check;
  uv_idle_t idle;
  uint8_t flush_scheduled;
  uint8_t flushing;
  double *pending; /* ids of connections with PENDING_* work */
  uint32_t npending, pending_cap;

  conn_t *adopting; /* the connection lws_adopt_* is creating right now */
  conn_t **slots;
  uint32_t *gens;
  uint32_t *free_slots;
  uint32_t nslots, cap, nfree;
  uint32_t live;

  size_t max_message;
  size_t high_water;
  size_t write_mark; /* above this, send() tells JavaScript to hold off until EV_DRAIN */
  size_t max_buffered;
  int compression;
  /* Scratch of write(): each payload's message, the connections written to. */
  msg_t **msgs;
  double *touched;
  uint32_t msgs_cap, touched_cap;
  uint32_t write_seq; /* write() calls so far */

  uint8_t destroyed; /* destroy() was called */
  uint8_t js_gone;   /* no more calls into JavaScript */
  uint8_t finishing; /* waiting for the last connection before destroying the vhost */
  int holds;         /* the JS handle, the vhost, and the two uv handles */
} server_t;

/* ---- memory ---- */

static msg_t *msg_new(size_t len, int binary) {
  msg_t *m = malloc(sizeof(msg_t) + LWS_PRE + len + 1);
  if (!m) return NULL;
  m->refs = 1;
  m->binary = (uint8_t)binary;
  m->len = len;
  return m;
}

static void msg_unref(msg_t *m) {
  if (m && --m->refs == 0) free(m);
}

static void server_release(server_t *s) {
  if (--s->holds > 0) return;
  free(s->msgs);
  free(s->touched);
  free(s->pending);
  free(s->slots);
  free(s->gens);
  free(s->free_slots);
  free(s);
}

static void on_handle_closed(uv_handle_t *handle) {
  server_release((server_t *)handle->data);
}

/* ---- connection table: ids are slot + generation, so a stale id never reaches a new connection ---- */

#define GEN_MASK 0x1fffffu /* ids stay exact in a double */

static double conn_id(const conn_t *c) {
  return (double)c->gen * 4294967296.0 + (double)c->slot;
}

static int slot_alloc(server_t *s, conn_t *c) {
  uint32_t slot;
  if (s->nfree) {
    slot = s->free_slots[--s->nfree];
  } else {
    if (s->nslots == s->cap) {
      uint32_t cap = s->cap ? s->cap * 2 : 64;
      conn_t **slots = realloc(s->slots, cap * sizeof(*slots));
      if (!slots) return -1;
      s->slots = slots;
      uint32_t *gens = realloc(s->gens, cap * sizeof(*gens));
      if (!gens) return -1;
      s->gens = gens;
      uint32_t *free_slots = realloc(s->free_slots, cap * sizeof(*free_slots));
      if (!free_slots) return -1;
      s->free_slots = free_slots;
      memset(s->gens + s->cap, 0, (cap - s->cap) * sizeof(*gens));
      s->cap = cap;
    }
    slot = s->nslots++;
  }
  s->gens[slot] = (s->gens[slot] + 1) & GEN_MASK;
  s->slots[slot] = c;
  c->slot = slot;
  c->gen = s->gens[slot];
  s->live++;
  return 0;
}

static conn_t *conn_lookup(server_t *s, double id) {
  if (!(id >= 0) || id > 9007199254740991.0) return NULL;
  uint64_t v = (uint64_t)id;
  uint32_t slot = (uint32_t)(v & 0xffffffffu);
  uint32_t gen = (uint32_t)(v >> 32);
  if (slot >= s->nslots) return NULL;
  conn_t *c = s->slots[slot];
  return c && c->gen == gen ? c : NULL;
}

static void fd_untrack(int fd, conn_t *c);

static void conn_free(conn_t *c) {
  server_t *s = c->srv;
  qnode_t *n = c->head;
  while (n) {
    qnode_t *next = n->next;
    msg_unref(n->msg);
    free(n);
    n = next;
  }
  msg_unref(c->current);
  msg_unref(c->retired);
  free(c->rx);
  free(c->protocol);
  fd_untrack(c->fd, c);
  s->slots[c->slot] = NULL;
  s->free_slots[s->nfree++] = c->slot;
  s->live--;
  free(c);
}


/* ---- the peer's frames, checked before libwebsockets parses them ---- */

static void schedule(conn_t *c, int work);

/* Status codes a peer may send in a close frame (as ws accepts them). */
static int close_code_valid(unsigned code) {
  return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) || (code >= 3000 && code <= 4999);
}

/* One byte of a close reason; 0 when the reason cannot be UTF-8 any more. */
static int reason_byte(struct frame_check *f, uint8_t b) {
  if (f->utf8_need) {
    if (b < f->utf8_lo || b > f->utf8_hi) return 0;
    f->utf8_need--;
    f->utf8_lo = 0x80;
    f->utf8_hi = 0xbf;
    return 1;
  }
  if (b < 0x80) return 1;
  f->utf8_lo = 0x80;
  f->utf8_hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) {
    f->utf8_need = 1;
  } else if (b >= 0xe0 && b <= 0xef) {
    f->utf8_need = 2;
    if (b == 0xe0) f->utf8_lo = 0xa0;      /* no overlong forms */
    else if (b == 0xed) f->utf8_hi = 0x9f; /* no surrogates */
  } else if (b >= 0xf0 && b <= 0xf4) {
    f->utf8_need = 3;
    if (b == 0xf0) f->utf8_lo = 0x90;
    else if (b == 0xf4) f->utf8_hi = 0x8f; /* nothing above U+10FFFF */
  } else {
    return 0;
  }
  return 1;
}

/* The length of a header whose second byte is b1. */
static unsigned header_length(uint8_t b1) {
  unsigned len7 = b1 & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/* A complete frame header: the close code it earns, or 0. */
static uint16_t check_header(struct frame_check *f, int deflate, size_t max_message) {
  uint8_t b0 = f->hdr[0], b1 = f->hdr[1];
  int fin = b0 & 0x80, rsv1 = b0 & 0x40, opcode = b0 & 0x0f;
  if (b0 & 0x30) return 1002;           /* RSV2 and RSV3: no extension defines them */
  if (rsv1 && !deflate) return 1002;    /* RSV1 without permessage-deflate */
  if (opcode >= 8) {
    if (opcode > 10) return 1002;       /* unknown control opcode */
    if (!fin || rsv1) return 1002;      /* control frames are never fragmented nor compressed */
    if ((b1 & 0x7f) > 125) return 1002; /* nor longer than 125 bytes */
  } else if (opcode == 0) {
    if (!f->continuing || rsv1) return 1002; /* nothing to continue; RSV1 only on a first frame */
  } else if (opcode <= 2) {
    if (f->continuing) return 1002;     /* a new message inside a fragmented one */
  } else {
    return 1002;                        /* unknown data opcode */
  }
  if (!(b1 & 0x80)) return 1002;        /* section 5.1: a client masks every frame */

  uint64_t len = b1 & 0x7f;
  const uint8_t *p = f->hdr + 2;
  if (len == 126) {
    len = (uint64_t)p[0] << 8 | p[1];
    p += 2;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | p[i];
    p += 8;
    if (len > 9007199254740991ULL) return 1009; /* as ws: no message can be that long */
  }
  memcpy(f->mask, p, 4);
  f->remain = len;
  f->opcode = (uint8_t)opcode;
  if (opcode == 8) {
    f->close_len = 0;
    f->utf8_need = 0;
    f->mask_at = 0;
  } else {
    if (opcode != 0) {
      f->msg_total = 0;
      f->compressed = rsv1 ? 1 : 0;
    }
    /* An uncompressed message's length shows in its headers: refuse it before its payload comes,
     * as ws does. A compressed one's shows once inflated (receive() checks that). */
    if (!f->compressed) {
      f->msg_total += len;
      if (f->msg_total > max_message) return 1009;
    }
    f->continuing = !fin;
  }
  return 0;
}

/* One byte of a close frame's payload (masked). */
static uint16_t check_close_byte(struct frame_check *f, uint8_t b) {
  b ^= f->mask[f->mask_at++ & 3];
  f->close_len++;
  if (f->close_len == 1) {
    f->close_hi = b;
    return 0;
  }
  if (f->close_len == 2) return close_code_valid((unsigned)f->close_hi << 8 | b) ? 0 : 1002;
  return reason_byte(f, b) ? 0 : 1007;
}

/*
 * Check what was read from the peer. Returns how many of the n bytes libwebsockets may see: all
 * of them, or those before the frame that broke the protocol (f->failed says how).
 */
static size_t check_frames(struct frame_check *f, const uint8_t *p, size_t n, int deflate, size_t max_message) {
  size_t i = 0, frame_start = 0;
  uint16_t code = 0;
  while (i < n) {
    if (f->remain) {
      size_t take = n - i < f->remain ? n - i : (size_t)f->remain;
      if (f->opcode == 8) {
        for (size_t k = 0; k < take && !code; k++) code = check_close_byte(f, p[i + k]);
        if (code) break;
      }
      i += take;
      f->remain -= take;
      if (!f->remain && f->opcode == 8 && (code = f->close_len == 1 ? 1002 : f->utf8_need ? 1007 : 0)) break;
      continue;
    }
    if (f->hlen == 0) frame_start = i;
    f->hdr[f->hlen++] = p[i++];
    if (f->hlen < 2 || f->hlen < header_length(f->hdr[1])) continue;
    f->hlen = 0;
    if ((code = check_header(f, deflate, max_message))) break;
  }
  if (!code) return n;
  f->failed = code;
  return frame_start;
}

/*
 * The peer broke the protocol: close with the code check_frames chose (once the handshake is
 * done, if it is not). The frames before the offending one are still delivered: libwebsockets
 * parses them once the read returns, and the close starts in the idle phase after that.
 */
static void protocol_failed(conn_t *c) {
  if (c->check.failed == 1009 && !c->error) c->error = "LWS_ERR_MESSAGE_TOO_BIG";
  if (c->state != CONN_OPEN) return;
  c->close_code = c->check.failed;
  schedule(c, PENDING_CLOSE);
}

#if defined(__linux__) && defined(__x86_64__)
/*
 * libwebsockets reads a connection's socket with recv() and nothing else (lws 4.1,
 * lws_ssl_capable_read_no_ssl). The binding points libwebsockets' own reference to recv() (its
 * GOT entry) at hooked_recv, which passes what it read through check_frames first. Only
 * libwebsockets' calls go through it, and only descriptors of this binding's connections are
 * checked; the table is per thread, as each Node environment services its connections on its own.
 */
typedef ssize_t (*recv_fn)(int, void *, size_t, int);
static recv_fn real_recv = recv;
static int recv_hooked;
static __thread conn_t **fd_conns;
static __thread size_t fd_conns_cap;

static int fd_track(int fd, conn_t *c) {
  if (fd < 0) return 0;
  if ((size_t)fd >= fd_conns_cap) {
    if (!c) return 0;
    size_t cap = fd_conns_cap ? fd_conns_cap : 1024;
    while (cap <= (size_t)fd) cap *= 2;
    conn_t **grown = realloc(fd_conns, cap * sizeof(*grown));
    if (!grown) return -1;
    memset(grown + fd_conns_cap, 0, (cap - fd_conns_cap) * sizeof(*grown));
    fd_conns = grown;
    fd_conns_cap = cap;
  }
  fd_conns[fd] = c;
  return 0;
}

static void fd_untrack(int fd, conn_t *c) {
  if (fd >= 0 && (size_t)fd < fd_conns_cap && fd_conns[fd] == c) fd_conns[fd] = NULL;
}

static ssize_t hooked_recv(int fd, void *buf, size_t len, int flags) {
  ssize_t n = real_recv(fd, buf, len, flags);
  if (n <= 0 || fd < 0 || (size_t)fd >= fd_conns_cap || !fd_conns[fd]) return n;
  conn_t *c = fd_conns[fd];
  if (c->check.failed) {
    /* Nothing after the offending frame is parsed. Once the close frame is out, what the peer
     * sends next (its own close frame, as a rule) ends the connection, as its close would. */
    if (c->check.close_sent) return 0;
    errno = EAGAIN;
    return -1;
  }
  size_t ok = check_frames(&c->check, buf, (size_t)n, c->deflate, c->srv->max_message);
  if (c->check.failed) protocol_failed(c);
  if (!ok) {
    errno = EAGAIN;
    return -1;
  }
  return (ssize_t)ok;
}

static ElfW(Addr) dyn_ptr(ElfW(Addr) base, ElfW(Addr) value) {
  /* glibc relocates these entries in place; other loaders leave them relative. */
  return value < base ? value + base : value;
}

static int patch_recv(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  (void)arg;
  if (!info->dlpi_name || !strstr(info->dlpi_name, "/libwebsockets.so")) return 0;
  ElfW(Addr) base = info->dlpi_addr;
  ElfW(Addr) relro_start = 0, relro_end = 0;
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *)(base + ph->p_vaddr);
    if (ph->p_type == PT_GNU_RELRO) {
      relro_start = base + ph->p_vaddr;
      relro_end = relro_start + ph->p_memsz;
    }
  }
  if (!dyn) return 1;
  const ElfW(Sym) *symtab = NULL;
  const char *strtab = NULL;
  const ElfW(Rela) *tables[2] = { NULL, NULL };
  size_t sizes[2] = { 0, 0 };
  for (; dyn->d_tag != DT_NULL; dyn++) {
    switch (dyn->d_tag) {
    case DT_SYMTAB: symtab = (const ElfW(Sym) *)dyn_ptr(base, dyn->d_un.d_ptr); break;
    case DT_STRTAB: strtab = (const char *)dyn_ptr(base, dyn->d_un.d_ptr); break;
    case DT_JMPREL: tables[0] = (const ElfW(Rela) *)dyn_ptr(base, dyn->d_un.d_ptr); break;
    case DT_PLTRELSZ: sizes[0] = dyn->d_un.d_val; break;
    case DT_RELA: tables[1] = (const ElfW(Rela) *)dyn_ptr(base, dyn->d_un.d_ptr); break;
    case DT_RELASZ: sizes[1] = dyn->d_un.d_val; break;
    default: break;
    }
  }
  if (!symtab || !strtab) return 1;
  long page = sysconf(_SC_PAGESIZE);
  for (int t = 0; t < 2; t++) {
    if (!tables[t]) continue;
    for (size_t k = 0; k < sizes[t] / sizeof(ElfW(Rela)); k++) {
      const ElfW(Rela) *r = &tables[t][k];
      unsigned long type = ELF64_R_TYPE(r->r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      if (strcmp(strtab + symtab[ELF64_R_SYM(r->r_info)].st_name, "recv") != 0) continue;
      ElfW(Addr) slot = base + r->r_offset;
      void *start = (void *)(slot & ~(ElfW(Addr))(page - 1));
      if (mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0) continue;
      *(recv_fn *)slot = hooked_recv;
      /* Read-only again where the loader had made it so. */
      if (slot >= relro_start && slot < relro_end) mprotect(start, (size_t)page, PROT_READ);
      recv_hooked = 1;
    }
  }
  return 1;
}

static void hook_recv(void) {
  dl_iterate_phdr(patch_recv, NULL);
}

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static void install_frame_checks(void) {
  pthread_once(&hook_once, hook_recv);
}
#else
static int recv_hooked;
static int fd_track(int fd, conn_t *c) { (void)fd; (void)c; return 0; }
static void fd_untrack(int fd, conn_t *c) { (void)fd; (void)c; }
static void install_frame_checks(void) {}
#endif

/* ---- the loop: batches for JavaScript, kicks, teardown ---- */

static void flush_events(server_t *s);
static void run_pending(server_t *s);
static void finish_destroy(server_t *s);

static void on_check(uv_check_t *handle) {
  server_t *s = handle->data;
  if (s->finishing) finish_destroy(s);
  else flush_events(s);
}

/* Runs while events wait for the check phase (so the loop polls without blocking), while
 * connections wait for pending work, and while the server waits for its last connection. */
static void on_idle(uv_idle_t *handle) {
  server_t *s = handle->data;
  if (s->npending && !s->destroyed) run_pending(s);
  if (!s->npending && !s->flush_scheduled && !s->finishing) uv_idle_stop(&s->idle);
}

static void schedule_flush(server_t *s) {
  if (s->flush_scheduled || s->js_gone) return;
  s->flush_scheduled = 1;
  /* Events waiting for JavaScript keep the loop alive until they are delivered: a connection's
   * last event (its close) comes from a uv close callback, after which nothing of the
   * connection's own is left on the loop, and Node's socket object has no handle that would
   * keep the process running until the spark has ended. */
  uv_ref((uv_handle_t *)&s->check);
  uv_check_start(&s->check, on_check);
  uv_idle_start(&s->idle, on_idle);
}

/*
 * Work that has to wait until no libwebsockets callback is on the stack.
 *
 * Kicks: some work has to be done without new network input, such as inflating the rest of a
 * compressed message ("rx draining") or reading what arrived while the connection was paused.
 * libwebsockets 4.1's libuv glue does one such pass from its idle handler and then stops the
 * handler although more may be left, so a large compressed message stalls until the peer sends
 * something else. Kicked connections are serviced, as if readable, until they stop making
 * progress.
 *
 * Closes: a callback that returns -1 makes libwebsockets close the connection, but builds with
 * debugging compiled in (Debian's among them) then close it a second time, "to test" the libuv
 * path, which drops the socket before the close frame is out: the peer sees 1006. A close started
 * from outside a callback goes through the close handshake properly.
 */
static void schedule(conn_t *c, int work) {
  server_t *s = c->srv;
  if (s->destroyed || (c->pending & work)) return;
  if (!c->pending) {
    if (s->npending == s->pending_cap) {
      uint32_t cap = s->pending_cap ? s->pending_cap * 2 : 16;
      double *pending = realloc(s->pending, cap * sizeof(*pending));
      if (!pending) return;
      s->pending = pending;
      s->pending_cap = cap;
    }
    s->pending[s->npending++] = conn_id(c);
  }
  c->pending |= (uint8_t)work;
  uv_idle_start(&s->idle, on_idle);
}

static void run_pending(server_t *s) {
  uint32_t n = s->npending;
  double stack[64];
  double *ids = n <= 64 ? stack : malloc(n * sizeof(double));
  if (!ids) return;
  memcpy(ids, s->pending, n * sizeof(double));
  s->npending = 0;
  for (uint32_t i = 0; i < n; i++) {
    conn_t *c = conn_lookup(s, ids[i]);
    if (!c || !c->wsi) continue;
    int work = c->pending;
    c->pending = 0;
    if (work & PENDING_CLOSE) {
      if (c->state == CONN_KILLED) continue;
      if (c->check.failed) c->state = CONN_CLOSING;
      lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, NULL, 0);
      c->check.close_sent = 1;
      /* Sends the close frame (the reason is set), then waits for the peer's. */
      lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
      continue;
    }
    if (c->state != CONN_OPEN || c->paused) continue;
    /* A receive callback during this service schedules another kick. */
    struct lws_pollfd pfd;
    pfd.fd = lws_get_socket_fd(c->wsi);
    pfd.events = LWS_POLLIN;
    pfd.revents = LWS_POLLIN;
    if (pfd.fd >= 0) lws_service_fd_tsi(s->e->lws, &pfd, 0);
  }
  if (ids != stack) free(ids);
}

/* ---- events to JavaScript ---- */

/* A Float64Array of `pairs` [type, id] pairs; NULL on failure. */
static napi_value new_event_array(napi_env env, uint32_t pairs, double **data) {
  napi_value buffer, array;
  void *bytes;
  if (napi_create_arraybuffer(env, (size_t)pairs * 2 * sizeof(double), &bytes, &buffer) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_float64_array, (size_t)pairs * 2, buffer, 0, &array) != napi_ok) return NULL;
  *data = bytes;
  return array;
}

/* Append one event; the caller has a handle scope open. `data` is its value, if it has one. */
static void push_event(server_t *s, int type, double id, napi_value data) {
  if (s->js_gone) return;
  napi_env env = s->env;
  int cur = s->cur;
  if (s->batch_len == s->event_cap[cur]) {
    double *grown_data;
    uint32_t cap = s->event_cap[cur] * 2;
    napi_value grown = new_event_array(env, cap, &grown_data);
    if (!grown) return;
    memcpy(grown_data, s->event_data[cur], (size_t)s->batch_len * 2 * sizeof(double));
    napi_delete_reference(env, s->events[cur]);
    napi_create_reference(env, grown, 1, &s->events[cur]);
    s->event_data[cur] = grown_data;
    s->event_cap[cur] = cap;
  }
  if (data) {
    napi_value values;
    if (napi_get_reference_value(env, s->values[cur], &values) != napi_ok || !values) return;
    if (napi_set_element(env, values, s->values_len, data) != napi_ok) return;
    s->values_len++;
  }
  double *slot = s->event_data[cur] + 2 * (size_t)s->batch_len;
  slot[0] = type;
  slot[1] = id;
  s->batch_len++;
  schedule_flush(s);
}

static void push_simple(server_t *s, int type, conn_t *c, const char *text) {
  if (s->js_gone) return;
  napi_handle_scope scope;
  napi_value value = NULL;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  if (text) napi_create_string_utf8(s->env, text, NAPI_AUTO_LENGTH, &value);
  push_event(s, type, conn_id(c), value);
  napi_close_handle_scope(s->env, scope);
}


static void push_message(server_t *s, conn_t *c, const void *data, size_t len, int binary) {
  if (s->js_gone) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value value = NULL;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (binary) {
    void *copy;
    napi_create_buffer_copy(env, len, len ? data : "", &copy, &value);
  } else {
    napi_create_string_utf8(env, len ? (const char *)data : "", len, &value);
  }
  if (value) push_event(s, binary ? EV_BINARY : EV_TEXT, conn_id(c), value);
  napi_close_handle_scope(env, scope);
}

/* Hand the batch to JavaScript: one call per loop iteration, however many events it holds. */
static void flush_events(server_t *s) {
  if (s->flushing) return;
  if (s->flush_scheduled) {
    s->flush_scheduled = 0;
    uv_check_stop(&s->check);
    uv_unref((uv_handle_t *)&s->check);
  }
  napi_env env = s->env;
  s->flushing = 1;
  /* destroy() called from inside the batch stops the loop: its references are gone. */
  while (s->batch_len && !s->js_gone) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) break;
    int cur = s->cur;
    napi_value fn, recv, argv[3], fresh, result;
    napi_get_reference_value(env, s->events[cur], &argv[0]);
    napi_create_uint32(env, s->batch_len, &argv[1]);
    napi_get_reference_value(env, s->values[cur], &argv[2]);
    napi_get_reference_value(env, s->dispatch, &fn);
    /* Events raised while JavaScript handles this batch go to the other pair; this pair's values
     * array is replaced, so that JavaScript may keep what it was given. */
    napi_create_array(env, &fresh);
    napi_delete_reference(env, s->values[cur]);
    napi_create_reference(env, fresh, 1, &s->values[cur]);
    s->cur = 1 - cur;
    s->batch_len = 0;
    s->values_len = 0;
    /* napi_make_callback converts the receiver to an object: undefined would throw. */
    napi_get_global(env, &recv);
    napi_status status = napi_make_callback(env, s->async, recv, fn, 3, argv, &result);
    if (status == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
  }
  s->flushing = 0;
}

/* The references to the event arrays (destroy(), environment teardown). */
static void release_events(server_t *s) {
  for (int i = 0; i < 2; i++) {
    napi_delete_reference(s->env, s->events[i]);
    napi_delete_reference(s->env, s->values[i]);
  }
}

/* ---- sending ---- */

static void kill_conn(conn_t *c, const char *error) {
  if (error && !c->error) c->error = error;
  c->state = CONN_KILLED;
  /* Synchronously when no libwebsockets callback is on the stack: the caller may be about to
   * write to the spark, and nothing may reach the wire after this. */
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, c->srv->e->callback_depth ? LWS_TO_KILL_ASYNC : LWS_TO_KILL_SYNC);
}

static int enqueue(conn_t *c, msg_t *m) {
  qnode_t *n = malloc(sizeof(qnode_t));
  if (!n) {
    msg_unref(m);
    return -1;
  }
  n->next = NULL;
  n->msg = m;
  if (c->tail) c->tail->next = n;
  else c->head = n;
  c->tail = n;
  c->queued += m->len;
  return 0;
}

static void set_paused(conn_t *c, int paused) {
  if (c->paused == paused) return;
  c->paused = (uint8_t)paused;
  int flags = LWS_RXFLOW_REASON_USER_BOOL | (paused ? LWS_RXFLOW_REASON_APPLIES_DISABLE : LWS_RXFLOW_REASON_APPLIES_ENABLE);
  /* Outside a callback the change has to be applied at once. */
  if (!c->srv->e->callback_depth) flags |= LWS_RXFLOW_REASON_FLAG_PROCESS_NOW;
  lws_rx_flow_control(c->wsi, flags);
}

/* Write what the queue holds. Returns -1 when libwebsockets should close the connection. */
static int write_queue(conn_t *c) {
  server_t *s = c->srv;
  unsigned char *scratch = s->e->scratch;
  /* libwebsockets only asks for more once permessage-deflate has drained the previous message. */
  msg_unref(c->retired);
  c->retired = NULL;
  if (c->state == CONN_KILLED) return -1;
  if (c->state != CONN_OPEN) return 0;

  size_t budget = WRITE_BUDGET;
  /*
   * Whole messages waiting (the writes of one tick): frame them here, one after the other, and
   * hand them to libwebsockets in one raw write, so they leave in one system call instead of one
   * each. A raw write bypasses libwebsockets' framing (it goes to the socket as is, and what the
   * kernel does not take is buffered and sent before anything else), so it is only done between
   * frames and without permessage-deflate. Messages too large for one chunk go the way below.
   */
  if (!c->deflate && !c->current && c->head && !lws_partial_buffered(c->wsi)) {
    unsigned char *out = scratch + LWS_PRE;
    size_t total = 0;
    while (c->head) {
      qnode_t *n = c->head;
      msg_t *m = n->msg;
      size_t head = m->len < 126 ? 2 : m->len < 65536 ? 4 : 10;
      if (total + head + m->len > CHUNK) break;
      unsigned char *h = out + total;
      h[0] = (unsigned char)(0x80 | (m->binary ? 0x2 : 0x1));
      if (m->len < 126) {
        h[1] = (unsigned char)m->len;
      } else if (m->len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(m->len >> 8);
        h[3] = (unsigned char)m->len;
      } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)m->len >> (56 - 8 * i));
      }
      memcpy(h + head, m->buf + LWS_PRE, m->len);
      total += head + m->len;
      c->head = n->next;
      if (!c->head) c->tail = NULL;
      c->queued -= m->len;
      msg_unref(m);
      free(n);
    }
    if (total && lws_write(c->wsi, out, total, LWS_WRITE_RAW) < 0) return -1;
    budget = total < budget ? budget - total : 0;
  }
  /* The rest one message at a time, unless the kernel already refused part of the batch. */
  for (; !lws_partial_buffered(c->wsi) && budget;) {
    if (!c->current) {
      qnode_t *n = c->head;
      if (!n) break;
      c->head = n->next;
      if (!c->head) c->tail = NULL;
      c->current = n->msg;
      c->offset = 0;
      free(n);
    }
    msg_t *m = c->current;
    size_t remain = m->len - c->offset;
    int first = c->offset == 0;
    size_t chunk = c->deflate || remain <= CHUNK ? remain : CHUNK;
    int last = chunk == remain;
    unsigned char *p = m->buf + LWS_PRE + c->offset;
    /* The frame header goes into the LWS_PRE bytes before the payload; past the first fragment
     * those bytes belong to the message, which other connections may still have to send. */
    if (!first && m->refs > 1) {
      memcpy(scratch + LWS_PRE, p, chunk);
      p = scratch + LWS_PRE;
    }
    int flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, first, last);
    if (lws_write(c->wsi, p, chunk, (enum lws_write_protocol)flags) < 0) return -1;
    c->offset += chunk;
    c->queued -= chunk;
    if (last) {
      if (c->deflate) c->retired = m;
      else msg_unref(m);
      c->current = NULL;
    }
    /* zlib may still hold on to this message's bytes: nothing more until it has drained. */
    if (c->deflate) break;
    if (lws_partial_buffered(c->wsi)) break;
    if (budget <= chunk) break;
    budget -= chunk;
  }

  if (c->need_drain && c->queued == 0) {
    /* Everything JavaScript queued is with the kernel: it may write again. */
    c->need_drain = 0;
    push_simple(s, EV_DRAIN, c, NULL);
  }
  if (c->paused && c->queued <= s->high_water / 2) {
    set_paused(c, 0);
    /* What arrived while paused may already sit in libwebsockets' buffers. */
    schedule(c, PENDING_KICK);
  }
  if (c->current || c->head) {
    lws_callback_on_writable(c->wsi);
    return 0;
  }
  if (c->close_asked) schedule(c, PENDING_CLOSE);
  return 0;
}

/* ---- the libwebsockets protocol callback ---- */

/*
 * libwebsockets answers a ping frame with a pong on its own and tells the protocol nothing, yet a
 * ping has to reset the spark's heartbeat, as it does with the websockets transformer. What can be
 * seen is the pong: libwebsockets 4.1 writes it from the buffer lws_get_close_payload() points
 * into, and, as for every lws_write(), puts the frame header in the LWS_PRE bytes before it. A
 * pong header there means a pong went out since the last look; clearing it (libwebsockets writes
 * that byte afresh for every frame it sends from the buffer) makes the next one visible again.
 * After sending a pong libwebsockets always offers the connection a writable callback, where this
 * is checked, so pings are seen on busy connections too. Several pings answered between two
 * callbacks count once, which is all a heartbeat needs. A libwebsockets that sends pongs from
 * another buffer never shows the header here: ping frames then do not count, and nothing else
 * changes.
 */
static void check_pong(server_t *s, conn_t *c) {
  if (c->state != CONN_OPEN) return;
  unsigned char *payload = lws_get_close_payload(c->wsi);
  if (!payload || payload[-2] != PONG_HEADER) return;
  payload[-2] = 0;
  push_simple(s, EV_PING, c, NULL);
}

static int fail_receive(conn_t *c, const char *error, uint16_t code) {
  c->error = error;
  free(c->rx);
  c->rx = NULL;
  c->rx_len = c->rx_cap = 0;
  c->rx_active = 0;
  c->state = CONN_CLOSING;
  c->close_code = code;
  schedule(c, PENDING_CLOSE);
  return 0;
}

static int receive(server_t *s, conn_t *c, struct lws *wsi, const void *in, size_t len) {
  /* A connection being closed on request still reports what the peer sent until it is gone;
   * the spark has ended and ignores it. */
  if (c->state != CONN_OPEN) return 0;
  if (!c->rx_active) {
    c->rx_active = 1;
    c->rx_binary = (uint8_t)lws_frame_is_binary(wsi);
    c->rx_len = 0;
  }
  int final = lws_is_final_fragment(wsi);
  if (!final && c->deflate) schedule(c, PENDING_KICK);
  if (c->rx_len + len > s->max_message) return fail_receive(c, "LWS_ERR_MESSAGE_TOO_BIG", LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
  if (final && c->rx_len == 0) {
    /* The common case: the whole message arrived at once, no copy of our own. */
    c->rx_active = 0;
    push_message(s, c, in, len, c->rx_binary);
    return 0;
  }
  if (c->rx_len + len > c->rx_cap) {
    size_t cap = c->rx_cap ? c->rx_cap : 4096;
    while (cap < c->rx_len + len) cap *= 2;
    if (cap > s->max_message) cap = s->max_message;
    unsigned char *rx = realloc(c->rx, cap);
    if (!rx) return fail_receive(c, "LWS_ERR_OUT_OF_MEMORY", LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
    c->rx = rx;
    c->rx_cap = cap;
  }
  if (len) memcpy(c->rx + c->rx_len, in, len);
  c->rx_len += len;
  if (final) {
    push_message(s, c, c->rx, c->rx_len, c->rx_binary);
    /* Large buffers are not kept between messages: memory per idle connection stays small. */
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    c->rx_active = 0;
  }
  return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  const struct lws_protocols *protocol = lws_get_protocol(wsi);
  server_t *s = protocol ? (server_t *)protocol->user : NULL;
  if (!s) return lws_callback_http_dummy(wsi, reason, user, in, len);
  env_t *e = s->e;
  conn_t *c = (conn_t *)lws_get_opaque_user_data(wsi);
  int ret = 0;
  e->callback_depth++;

  switch (reason) {
  case LWS_CALLBACK_WSI_CREATE:
  case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
    /* Adoption sets the opaque pointer itself after WSI_CREATE, so attach again on the second. */
    if (!c && s->adopting) {
      c = s->adopting;
      c->wsi = wsi;
      lws_set_opaque_user_data(wsi, c);
    }
    break;

  case LWS_CALLBACK_ADD_HEADERS:
    /* The subprotocol JavaScript chose (libwebsockets only knows its own protocol's name). */
    if (c && c->protocol) {
      struct lws_process_html_args *args = in;
      unsigned char *p = (unsigned char *)args->p;
      if (lws_add_http_header_by_name(wsi, (const unsigned char *)"sec-websocket-protocol:", (const unsigned char *)c->protocol,
                                      (int)strlen(c->protocol), &p, (unsigned char *)args->p + args->max_len))
        ret = -1;
      else
        args->p = (char *)p;
    }
    break;

  case LWS_CALLBACK_ESTABLISHED:
    if (!c || s->destroyed) {
      ret = -1;
      break;
    }
    c->state = CONN_OPEN;
    if (s->compression) {
      /* Succeeds only when the client negotiated permessage-deflate. Larger buffers than the
       * defaults (1 KiB in, 4 KiB out) mean fewer trips through the loop per large message. */
      c->deflate = lws_set_extension_option(wsi, "permessage-deflate", "tx_buf_size", "14") == 0;
      if (c->deflate) lws_set_extension_option(wsi, "permessage-deflate", "rx_buf_size", "12");
    }
    push_simple(s, EV_OPEN, c, NULL);
    /* The client broke the protocol in what it sent right behind its request. */
    if (c->check.failed) protocol_failed(c);
    break;

  case LWS_CALLBACK_RECEIVE:
    if (c) ret = receive(s, c, wsi, in, len);
    break;

  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (c) {
      check_pong(s, c);
      ret = write_queue(c);
    }
    break;

  case LWS_CALLBACK_HTTP:
    /* An upgrade to something other than WebSocket: there is no HTTP service here. */
    lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL);
    ret = -1;
    break;

  case LWS_CALLBACK_WSI_DESTROY:
    if (c) {
      lws_set_opaque_user_data(wsi, NULL);
      if (c->error) push_simple(s, EV_ERROR, c, c->error);
      push_simple(s, EV_CLOSE, c, NULL);
      conn_free(c);
    }
    break;

  case LWS_CALLBACK_PROTOCOL_DESTROY:
    /* The vhost is gone: the last callback libwebsockets makes for this server. */
    if (s->vhost) {
      s->vhost = NULL;
      e->vhosts--;
      e->callback_depth--;
      server_release(s);
      return 0;
    }
    break;

  default:
    ret = lws_callback_http_dummy(wsi, reason, user, in, len);
    break;
  }

  e->callback_depth--;
  return ret;
}

/* ---- the shared context ---- */

typedef struct handle_list {
  uv_handle_t **items;
  size_t len, cap;
  int failed;
} handle_list_t;

static void collect_handle(uv_handle_t *handle, void *arg) {
  handle_list_t *list = arg;
  if (list->failed) return;
  if (list->len == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 64;
    uv_handle_t **items = realloc(list->items, cap * sizeof(*items));
    if (!items) {
      list->failed = 1;
      return;
    }
    list->items = items;
    list->cap = cap;
  }
  list->items[list->len++] = handle;
}

static int in_list(const handle_list_t *list, const uv_handle_t *handle) {
  for (size_t i = 0; i < list->len; i++)
    if (list->items[i] == handle) return 1;
  return 0;
}

static void emit_log(int level, const char *line) {
  /* libwebsockets 4.1.6 reports every adoption with a read buffer as an error. */
  if (strstr(line, "adopt_socket_readbuf: calling service")) return;
  lwsl_emit_stderr(level, line);
}

static void set_log_level(void) {
  const char *level = getenv("PRIMUS_LWS_LOG");
  /* libwebsockets logs to stderr; by default only its errors. */
  lws_set_log_level(level ? atoi(level) : LLL_ERR, emit_log);
}

/* The environment's libwebsockets context, created on first use. */
static struct lws_context *env_context(env_t *e, unsigned int header_limit) {
  if (e->lws) return e->lws;
  install_frame_checks();
  static int logging_set = 0;
  if (!logging_set) {
    logging_set = 1;
    set_log_level();
  }
  struct lws_context_creation_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
               LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
               LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  e->foreign_loops[0] = e->loop;
  ci.foreign_loops = e->foreign_loops;
  ci.count_threads = 1;
  /* One shared read buffer: large reads, few syscalls. */
  ci.pt_serv_buf_size = 64 * 1024;
  /* Node has parsed these headers already under its own limit; accept what it accepted. */
  ci.max_http_header_data = (unsigned short)(header_limit > 65535 ? 65535 : header_limit < 4096 ? 4096 : header_limit);
  ci.max_http_header_pool = 64;
  ci.timeout_secs = 10;

  handle_list_t before = { 0 };
  uv_walk(e->loop, collect_handle, &before);
  e->lws = lws_create_context(&ci);
  if (e->lws && !before.failed) {
    handle_list_t after = { 0 };
    uv_walk(e->loop, collect_handle, &after);
    for (size_t i = 0; i < after.len && e->n_lws_handles < 8; i++) {
      uv_handle_t *h = after.items[i];
      if (in_list(&before, h)) continue;
      e->lws_handles[e->n_lws_handles++] = h;
      /* The context outlives every Primus server: its own handles (event pipe, timer, idle)
       * must not keep the process alive. Connections keep it alive through their sockets. */
      uv_unref(h);
    }
    free(after.items);
  }
  free(before.items);
  return e->lws;
}

static void find_lws_handle(uv_handle_t *handle, void *arg) {
  env_t *e = ((void **)arg)[0];
  int *found = ((void **)arg)[1];
  for (int i = 0; i < e->n_lws_handles; i++)
    if (e->lws_handles[i] == handle) *found = 1;
}

/* ---- teardown ---- */

/* Start closing a server: drop its connections, then (once they are gone) its vhost. */
static void destroy_server(server_t *s) {
  if (s->destroyed) return;
  s->destroyed = 1;
  s->js_gone = 1;
  s->npending = 0;
  for (uint32_t i = 0; i < s->nslots; i++) {
    conn_t *c = s->slots[i];
    if (c && c->wsi && c->state != CONN_KILLED) kill_conn(c, NULL);
  }
  /* The check handle now waits for the last connection; the idle one keeps the loop from
   * blocking meanwhile. */
  if (s->flush_scheduled) uv_unref((uv_handle_t *)&s->check);
  s->flush_scheduled = 0;
  s->finishing = 1;
  uv_check_start(&s->check, on_check);
  uv_idle_start(&s->idle, on_idle);
}

/*
 * libwebsockets frees a connection from a uv close callback; once the last one is gone, the
 * vhost has nothing bound and lws_vhost_destroy() finishes at once (PROTOCOL_DESTROY).
 */
static void finish_destroy(server_t *s) {
  if (s->live) return;
  s->finishing = 0;
  if (s->vhost) {
    struct lws_vhost *vhost = s->vhost;
    s->e->callback_depth++;
    lws_vhost_destroy(vhost);
    s->e->callback_depth--;
  }
  if (s->prev_server) s->prev_server->next_server = s->next_server;
  else s->e->servers = s->next_server;
  if (s->next_server) s->next_server->prev_server = s->prev_server;
  uv_check_stop(&s->check);
  uv_idle_stop(&s->idle);
  uv_close((uv_handle_t *)&s->check, on_handle_closed);
  uv_close((uv_handle_t *)&s->idle, on_handle_closed);
}

static void keep_iterating(uv_idle_t *handle) {
  (void)handle;
}

/* Run the loop once, even though everything of ours on it is unref'd. */
static void iterate(env_t *e, uv_idle_t *keepalive) {
  uv_idle_start(keepalive, keep_iterating);
  uv_run(e->loop, UV_RUN_NOWAIT);
}

static int lws_handles_open(env_t *e) {
  int found = 0;
  void *walk_arg[2] = { e, &found };
  uv_walk(e->loop, find_lws_handle, walk_arg);
  return found;
}

/*
 * The environment is going away (process exit, or a worker ending): destroy what is left without
 * calling into JavaScript, and run the loop until libwebsockets is done with it, since a
 * worker's loop must be empty when it is closed. Here, and only here, the context goes: with a
 * foreign loop, libwebsockets 4.1 closes its handles asynchronously after the first
 * lws_context_destroy() and frees the context on the second.
 */
static void env_cleanup(void *arg) {
  env_t *e = arg;
  uv_idle_t keepalive;
  uv_idle_init(e->loop, &keepalive);
  for (server_t *s = e->servers; s; s = s->next_server) {
    if (s->destroyed) continue;
    release_events(s);
    napi_delete_reference(s->env, s->dispatch);
    napi_async_destroy(s->env, s->async);
    destroy_server(s);
  }
  /* Connections are freed from uv close callbacks, then each server can let its vhost go. */
  for (int i = 0; i < 1000 && e->servers; i++) {
    iterate(e, &keepalive);
    for (server_t *s = e->servers, *next; s; s = next) {
      next = s->next_server;
      finish_destroy(s);
    }
  }
  int done = !e->servers;
  if (done && e->lws) {
    e->callback_depth++;
    lws_context_destroy(e->lws);
    e->callback_depth--;
    for (int i = 0; i < 1000 && lws_handles_open(e); i++) iterate(e, &keepalive);
    if (lws_handles_open(e)) done = 0;
    else lws_context_destroy(e->lws);
  }
  uv_close((uv_handle_t *)&keepalive, NULL);
  uv_run(e->loop, UV_RUN_NOWAIT);
  /* Otherwise libwebsockets may still use what this points to: leave it. */
  if (!done) return;
  free(e->scratch);
  free(e);
}

/* ---- JavaScript API ---- */

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static server_t *get_server(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (server_t *)data;
}

static env_t *get_env(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

static double get_number(napi_env env, napi_value object, const char *name, double fallback) {
  napi_value value;
  double result;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return fallback;
  if (napi_get_value_double(env, value, &result) != napi_ok) return fallback;
  return result;
}

static void finalize_server(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  server_release((server_t *)data);
}

/* create(options, dispatch) -> handle: a vhost for one Primus server. */
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t0, t1;
  if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_object ||
      napi_typeof(env, argv[1], &t1) != napi_ok || t1 != napi_function)
    return throw_type(env, "create(options, dispatch) expects an object and a function");
  env_t *e = get_env(env);
  if (!e) return throw_type(env, "the libwebsockets binding is not initialised");
  if (!env_context(e, (unsigned int)get_number(env, argv[0], "maxHeaderSize", 16384)))
    return throw_type(env, "libwebsockets could not create a context (is its libuv event-loop plugin installed?)");

  server_t *s = calloc(1, sizeof(server_t));
  if (!s) return throw_type(env, "out of memory");
  s->e = e;
  s->env = env;
  s->max_message = (size_t)get_number(env, argv[0], "maxLength", 10 * 1024 * 1024);
  s->high_water = (size_t)get_number(env, argv[0], "highWaterMark", 1024 * 1024);
  s->max_buffered = (size_t)get_number(env, argv[0], "maxBufferedAmount", 64 * 1024 * 1024);
  s->write_mark = (size_t)get_number(env, argv[0], "writeMark", 1024 * 1024);
  napi_value compression;
  bool compress = false;
  if (napi_get_named_property(env, argv[0], "compression", &compression) == napi_ok) napi_get_value_bool(env, compression, &compress);
  s->compression = compress;
  /*
   * While it answers the upgrade, libwebsockets picks the vhost again from the Host header, and
   * every vhost without a listener matches any host: each gets a name of its own, and the request
   * it adopts names it as the host.
   */
  napi_value name_value;
  size_t name_len = 0;
  if (napi_get_named_property(env, argv[0], "name", &name_value) != napi_ok ||
      napi_get_value_string_utf8(env, name_value, s->name, sizeof(s->name), &name_len) != napi_ok || !name_len) {
    free(s);
    return throw_type(env, "create() needs options.name, the vhost's name");
  }

  s->protocols[0].name = "primus";
  s->protocols[0].callback = callback;
  s->protocols[0].user = s;
  /* Per-connection receive buffer: messages larger than this arrive in several callbacks. */
  s->protocols[0].rx_buffer_size = 4096;
  s->protocols[0].tx_packet_size = CHUNK + LWS_PRE;
  s->extensions[0].name = "permessage-deflate";
  s->extensions[0].callback = lws_extension_callback_pm_deflate;
  s->extensions[0].client_offer = "permessage-deflate; client_max_window_bits";

  struct lws_context_creation_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.port = CONTEXT_PORT_NO_LISTEN_SERVER;
  ci.protocols = s->protocols;
  ci.extensions = compress ? s->extensions : NULL;
  ci.vhost_name = s->name;
  ci.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  e->callback_depth++;
  s->vhost = lws_create_vhost(e->lws, &ci);
  e->callback_depth--;
  if (!s->vhost) {
    free(s);
    return throw_type(env, "libwebsockets could not create a vhost");
  }
  e->vhosts++;

  napi_value resource_name, handle;
  for (int i = 0; i < 2; i++) {
    napi_value events = new_event_array(env, 256, &s->event_data[i]), values;
    if (!events) return throw_type(env, "out of memory");
    napi_create_reference(env, events, 1, &s->events[i]);
    s->event_cap[i] = 256;
    napi_create_array(env, &values);
    napi_create_reference(env, values, 1, &s->values[i]);
  }
  napi_create_reference(env, argv[1], 1, &s->dispatch);
  napi_create_string_utf8(env, "PrimusLws", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &s->async);

  uv_check_init(e->loop, &s->check);
  uv_idle_init(e->loop, &s->idle);
  s->check.data = s;
  s->idle.data = s;
  /* These carry events; they keep the process alive only while events wait (schedule_flush). */
  uv_unref((uv_handle_t *)&s->check);
  uv_unref((uv_handle_t *)&s->idle);

  /* Held by: the JavaScript handle, the vhost (until PROTOCOL_DESTROY), the two uv handles. */
  s->holds = 4;
  s->next_server = e->servers;
  if (e->servers) e->servers->prev_server = s;
  e->servers = s;
  napi_create_external(env, s, finalize_server, NULL, &handle);
  return handle;
}

/*
 * adopt(handle, fd, request, protocol?) -> id: libwebsockets takes over a duplicate of the socket;
 * `protocol` is the subprotocol to confirm in the response. Instead of an id: ADOPT_NO_DESCRIPTOR
 * when the process is out of file descriptors, ADOPT_NO_MEMORY, or ADOPT_REFUSED (the server is
 * shutting down, or libwebsockets would not take the socket).
 */
static napi_value js_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 3 ? get_server(env, argv[0]) : NULL;
  int32_t fd;
  void *data;
  size_t len;
  bool is_buffer = false;
  if (!s || napi_get_value_int32(env, argv[1], &fd) != napi_ok || napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer)
    return throw_type(env, "adopt(handle, fd, request) expects a handle, a descriptor and a Buffer");
  napi_get_buffer_info(env, argv[2], &data, &len);
  if (s->destroyed || fd < 0) return number(env, ADOPT_REFUSED);

  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return number(env, errno == EMFILE || errno == ENFILE ? ADOPT_NO_DESCRIPTOR : ADOPT_REFUSED);
  conn_t *c = calloc(1, sizeof(conn_t));
  if (!c || slot_alloc(s, c) < 0) {
    free(c);
    close(dup_fd);
    return number(env, ADOPT_NO_MEMORY);
  }
  c->srv = s;
  c->state = CONN_HANDSHAKE;
  c->fd = dup_fd;
  double id = conn_id(c);
  if (fd_track(dup_fd, c) < 0) {
    conn_free(c);
    close(dup_fd);
    return number(env, ADOPT_NO_MEMORY);
  }
  /* Frames the client sent right behind its request (Node read them with it) reach libwebsockets
   * from this buffer, not through recv(): check them here. The request head ends at the first
   * empty line. permessage-deflate is not negotiated yet: allow RSV1 if it may be. */
  for (size_t i = 0; i + 3 < len; i++) {
    const char *d = (const char *)data;
    if (d[i] != '\r' || d[i + 1] != '\n' || d[i + 2] != '\r' || d[i + 3] != '\n') continue;
    size_t start = i + 4;
    if (start < len) len = start + check_frames(&c->check, (const uint8_t *)data + start, len - start, s->compression, s->max_message);
    break;
  }
  napi_valuetype ptype = napi_undefined;
  if (argc >= 4) napi_typeof(env, argv[3], &ptype);
  if (ptype == napi_string) {
    size_t plen;
    napi_get_value_string_utf8(env, argv[3], NULL, 0, &plen);
    if (plen && plen < 256 && (c->protocol = malloc(plen + 1))) napi_get_value_string_utf8(env, argv[3], c->protocol, plen + 1, &plen);
  }

  s->adopting = c;
  s->e->callback_depth++;
  lws_adopt_socket_vhost_readbuf(s->vhost, dup_fd, (const char *)data, len);
  s->e->callback_depth--;
  s->adopting = NULL;
  /* The returned wsi may already be gone again (a failed handshake): the connection is found
   * through its id only, and WSI_DESTROY has freed it and queued its close if so. */
  c = conn_lookup(s, id);
  if (c && !c->wsi) {
    /* libwebsockets never created a connection for it, and has closed the duplicate. */
    conn_free(c);
    return number(env, ADOPT_REFUSED);
  }
  return number(env, id);
}

/*
 * One payload of a write() batch as a message: a string is converted to UTF-8 once, however
 * many connections it goes to (a broadcast), bytes are copied. NULL when it is neither, or on
 * out of memory (*bad says which).
 */
static msg_t *payload_msg(napi_env env, napi_value value, int *bad) {
  napi_valuetype type;
  msg_t *m;
  *bad = 0;
  if (napi_typeof(env, value, &type) != napi_ok) {
    *bad = 1;
    return NULL;
  }
  if (type == napi_string) {
    /*
     * One pass: a UTF-16 unit never takes more than 3 bytes of UTF-8, and the length in units
     * is known without looking at the string. Large strings are measured first instead, so that
     * a message never holds 3 times the memory it needs.
     */
    size_t units, len, written;
    napi_get_value_string_utf16(env, value, NULL, 0, &units);
    if (units <= 16384) len = units * 3;
    else napi_get_value_string_utf8(env, value, NULL, 0, &len);
    m = msg_new(len, 0);
    if (!m) return NULL;
    napi_get_value_string_utf8(env, value, (char *)m->buf + LWS_PRE, len + 1, &written);
    m->len = written;
    return m;
  }
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) {
    *bad = 1;
    return NULL;
  }
  napi_typedarray_type ttype;
  size_t length, offset;
  void *data;
  napi_value arraybuffer;
  napi_get_typedarray_info(env, value, &ttype, &length, &data, &arraybuffer, &offset);
  size_t bytes = length;
  switch (ttype) {
  case napi_int16_array: case napi_uint16_array: bytes *= 2; break;
  case napi_int32_array: case napi_uint32_array: case napi_float32_array: bytes *= 4; break;
  case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: bytes *= 8; break;
  default: break;
  }
  m = msg_new(bytes, 1);
  if (!m) return NULL;
  if (bytes) memcpy(m->buf + LWS_PRE, data, bytes);
  return m;
}

/* The Float64Array argument `value`: its elements and their number. */
static double *float64_array(napi_env env, napi_value value, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_typedarray_type type;
  void *data;
  napi_value arraybuffer;
  size_t offset;
  napi_get_typedarray_info(env, value, &type, length, &data, &arraybuffer, &offset);
  return type == napi_float64_array ? data : NULL;
}

/* Grow a server's scratch array of `size`-byte items to hold n. */
static int scratch_reserve(void **items, uint32_t *cap, uint32_t n, size_t size) {
  if (n <= *cap) return 0;
  uint32_t grown = *cap ? *cap : 64;
  while (grown < n) grown *= 2;
  void *p = realloc(*items, (size_t)grown * size);
  if (!p) return -1;
  *items = p;
  *cap = grown;
  return 0;
}

/*
 * write(handle, ops, count, payloads, results): everything JavaScript sent during one tick, for
 * every connection, in one call. `ops` (a Float64Array) holds `count` triples [connection id,
 * index into `payloads`, result slot]: the messages in the order they were sent. Each payload
 * is converted once, however many connections it goes to (a broadcast is one payload). Then
 * every connection that got messages writes its queue: the messages it got leave together, in
 * one system call. `results[slot]` is set to the bytes then queued for the connection (above
 * writeMark, EV_DRAIN follows once its queue is empty), or -1 (the connection is gone: nothing
 * was queued), or -2 (dropped because its buffer is full: it is being closed).
 */
static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 5 ? get_server(env, argv[0]) : NULL;
  uint32_t count = 0;
  size_t nops = 0, nresults = 0;
  double *ops = s ? float64_array(env, argv[1], &nops) : NULL;
  double *results = ops ? float64_array(env, argv[4], &nresults) : NULL;
  bool is_array = false;
  uint32_t npayloads = 0;
  if (!results || napi_get_value_uint32(env, argv[2], &count) != napi_ok || (size_t)count * 3 > nops ||
      napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &npayloads) != napi_ok)
    return throw_type(env, "write(handle, ops, count, payloads, results) expects a handle, a Float64Array, a count, an array and a Float64Array");
  if (s->destroyed) {
    for (uint32_t i = 0; i < count; i++) {
      double slot = ops[3 * i + 2];
      if (slot >= 0 && slot < (double)nresults) results[(size_t)slot] = -1;
    }
    return NULL;
  }
  if (scratch_reserve((void **)&s->msgs, &s->msgs_cap, npayloads, sizeof(msg_t *)) < 0 ||
      scratch_reserve((void **)&s->touched, &s->touched_cap, count, sizeof(double)) < 0)
    return throw_type(env, "out of memory");
  memset(s->msgs, 0, npayloads * sizeof(msg_t *));
  uint32_t ntouched = 0;
  uint32_t seq = ++s->write_seq;
  napi_value failure = NULL;

  for (uint32_t i = 0; i < count; i++) {
    double id = ops[3 * i], index = ops[3 * i + 1], slot_value = ops[3 * i + 2];
    if (!(slot_value >= 0 && slot_value < (double)nresults) || !(index >= 0 && index < (double)npayloads)) continue;
    size_t slot = (size_t)slot_value;
    conn_t *c = conn_lookup(s, id);
    if (!c || c->state != CONN_OPEN || c->close_asked) {
      if (!(results[slot] < 0) || c) results[slot] = c && c->state == CONN_KILLED ? -2 : -1;
      continue;
    }
    msg_t *m = s->msgs[(size_t)index];
    if (!m) {
      napi_value value;
      int bad = 0;
      if (napi_get_element(env, argv[3], (uint32_t)index, &value) == napi_ok) m = payload_msg(env, value, &bad);
      else bad = 1;
      if (!m) {
        if (bad) {
          if (!failure) napi_create_string_utf8(env, "write() payloads must be strings, Buffers or Uint8Arrays", NAPI_AUTO_LENGTH, &failure);
          results[slot] = -1;
        } else {
          kill_conn(c, "LWS_ERR_OUT_OF_MEMORY");
          results[slot] = -2;
        }
        continue;
      }
      s->msgs[(size_t)index] = m;
    }
    if (c->queued > 0 && c->queued + m->len > s->max_buffered) {
      /* The peer does not read: drop it rather than buffer without bound. */
      kill_conn(c, "LWS_ERR_BUFFER_FULL");
      results[slot] = -2;
      continue;
    }
    m->refs++;
    if (enqueue(c, m) < 0) {
      kill_conn(c, "LWS_ERR_OUT_OF_MEMORY");
      results[slot] = -2;
      continue;
    }
    if (c->write_seq != seq) {
      c->write_seq = seq;
      c->result_slot = (uint32_t)slot;
      s->touched[ntouched++] = id;
    }
  }

  /*
   * Write now rather than wait for POLLOUT: asking libwebsockets for a writable callback costs
   * two epoll_ctl() calls on a libuv loop (POLLOUT on, then off) and a loop iteration, while a
   * socket with room in its kernel buffer takes the messages at once. No libwebsockets callback
   * is on the stack here (JavaScript never runs inside one), so lws_write() is safe. What the
   * kernel does not take waits for a writable callback; so does everything while libwebsockets
   * still holds part of an earlier frame, and every message on a permessage-deflate connection
   * (its deflate keeps pointers into the message until it has drained, which write_queue() waits
   * for between writable callbacks).
   */
  for (uint32_t i = 0; i < ntouched; i++) {
    conn_t *c = conn_lookup(s, s->touched[i]);
    if (!c) continue; /* killed above: its slot says how */
    uint32_t slot = c->result_slot;
    if (c->state != CONN_OPEN) {
      results[slot] = c->state == CONN_KILLED ? -2 : -1;
      continue;
    }
    if (c->deflate || s->e->callback_depth || lws_partial_buffered(c->wsi)) {
      lws_callback_on_writable(c->wsi);
    } else if (write_queue(c) < 0) {
      kill_conn(c, NULL);
      results[slot] = -1;
      continue;
    }
    if (c->queued > s->high_water) set_paused(c, 1);
    if (c->queued > s->write_mark) c->need_drain = 1;
    results[slot] = (double)c->queued;
  }
  for (uint32_t i = 0; i < npayloads; i++) msg_unref(s->msgs[i]);
  if (failure) {
    napi_value err;
    napi_create_type_error(env, NULL, failure, &err);
    napi_throw(env, err);
  }
  return NULL;
}

/* close(handle, id, code): flush what is queued, then the close handshake. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 3 ? get_server(env, argv[0]) : NULL;
  double id;
  int32_t code;
  if (!s || napi_get_value_double(env, argv[1], &id) != napi_ok || napi_get_value_int32(env, argv[2], &code) != napi_ok)
    return throw_type(env, "close(handle, id, code) expects a handle, an id and a code");
  conn_t *c = s->destroyed ? NULL : conn_lookup(s, id);
  if (!c || c->close_asked || c->state >= CONN_CLOSING) return NULL;
  if (c->state == CONN_HANDSHAKE) {
    kill_conn(c, NULL);
    return NULL;
  }
  c->close_asked = 1;
  c->close_code = (uint16_t)(code >= 1000 && code < 5000 ? code : 1000);
  if (c->current || c->head) lws_callback_on_writable(c->wsi);
  else schedule(c, PENDING_CLOSE);
  return NULL;
}

/* terminate(handle, id): drop the connection at once, without a close handshake. */
static napi_value js_terminate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 2 ? get_server(env, argv[0]) : NULL;
  double id;
  if (!s || napi_get_value_double(env, argv[1], &id) != napi_ok) return throw_type(env, "terminate(handle, id) expects a handle and an id");
  conn_t *c = s->destroyed ? NULL : conn_lookup(s, id);
  if (c && c->wsi && c->state != CONN_KILLED) kill_conn(c, NULL);
  return NULL;
}

/* destroy(handle): drop every connection and release the vhost. Nothing is reported after it. */
static napi_value js_destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 1 ? get_server(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "destroy(handle) expects a handle");
  if (s->destroyed) return NULL;
  release_events(s);
  napi_delete_reference(env, s->dispatch);
  napi_async_destroy(env, s->async);
  destroy_server(s);
  return NULL;
}

/* stats(handle) -> { connections, queuedBytes, paused } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 1 ? get_server(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "stats(handle) expects a handle");
  double queued = 0, paused = 0;
  for (uint32_t i = 0; i < s->nslots; i++) {
    conn_t *c = s->slots[i];
    if (!c) continue;
    queued += (double)c->queued;
    paused += c->paused;
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "connections", number(env, s->live));
  napi_set_named_property(env, result, "queuedBytes", number(env, queued));
  napi_set_named_property(env, result, "paused", number(env, paused));
  return result;
}

static napi_value js_checks_frames(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, recv_hooked, &result);
  return result;
}

/* buffered(handle, id) -> bytes queued for the connection (0 once it is gone). */
static napi_value js_buffered(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  server_t *s = argc >= 2 ? get_server(env, argv[0]) : NULL;
  double id;
  if (!s || napi_get_value_double(env, argv[1], &id) != napi_ok) return throw_type(env, "buffered(handle, id) expects a handle and an id");
  conn_t *c = s->destroyed ? NULL : conn_lookup(s, id);
  return number(env, c ? (double)c->queued : 0);
}

/* diagnostics() -> { servers, vhosts }: servers not yet torn down, vhosts not yet freed. */
static napi_value js_diagnostics(napi_env env, napi_callback_info info) {
  (void)info;
  env_t *e = get_env(env);
  napi_value result;
  double servers = 0;
  for (server_t *s = e ? e->servers : NULL; s; s = s->next_server) servers++;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "servers", number(env, servers));
  napi_set_named_property(env, result, "vhosts", number(env, e ? e->vhosts : 0));
  return result;
}

NAPI_MODULE_INIT() {
  env_t *e = calloc(1, sizeof(env_t));
  if (!e || !(e->scratch = malloc(LWS_PRE + CHUNK)) || napi_get_uv_event_loop(env, &e->loop) != napi_ok) {
    if (e) free(e->scratch);
    free(e);
    napi_throw_error(env, NULL, "could not initialise the libwebsockets binding");
    return NULL;
  }
  napi_set_instance_data(env, e, NULL, NULL);
  napi_add_env_cleanup_hook(env, env_cleanup, e);

  napi_property_descriptor props[] = {
    { "create", NULL, js_create, NULL, NULL, NULL, napi_enumerable, NULL },
    { "adopt", NULL, js_adopt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "write", NULL, js_write, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "terminate", NULL, js_terminate, NULL, NULL, NULL, napi_enumerable, NULL },
    { "destroy", NULL, js_destroy, NULL, NULL, NULL, napi_enumerable, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL },
    { "buffered", NULL, js_buffered, NULL, NULL, NULL, napi_enumerable, NULL },
    { "diagnostics", NULL, js_diagnostics, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  napi_value version;
  napi_create_string_utf8(env, lws_get_library_version(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "version", version);
  /* Whether incoming frames are checked before libwebsockets parses them (known after create()). */
  napi_property_descriptor checks = { "checksFrames", NULL, NULL, js_checks_frames, NULL, NULL, napi_enumerable, NULL };
  napi_define_properties(env, exports, 1, &checks);
  return exports;
}
