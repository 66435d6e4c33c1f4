// Native UDP data plane for the TURN relay (Linux, Node-API C interface).
//
// One plane = one epoll loop on a dedicated thread. It owns the client-facing
// UDP listener sockets and the per-allocation relay sockets (file descriptors
// duplicated from sockets Node bound, so port selection stays in TypeScript).
// Per batch it receives with recvmmsg and sends with sendmmsg:
//   listener: ChannelData from a routed client -> peer (channel + permission
//             checked here); STUN and unrouted traffic -> JS (threadsafe fn).
//   relay:    peer datagram from a permitted IP -> ChannelData (bound channel)
//             or a Data indication built here -> client via its listener.
// The JS thread installs routes, permissions and channels under the same
// mutex the loop holds while it processes a batch; nothing here decides
// policy, it only forwards between entries JS installed.
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kBatch = 32;                 // datagrams per recvmmsg/sendmmsg
constexpr size_t kMaxDatagram = 65536;     // largest UDP payload we accept
constexpr size_t kUpcallQueue = 4096;      // packets waiting for the JS thread
constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint16_t kDataIndication = 0x0017;  // method Data (0x007), class indication
constexpr uint16_t kAttrXorPeerAddress = 0x0012;
constexpr uint16_t kAttrData = 0x0013;
constexpr uint64_t kKindWake = 0, kKindListener = 1, kKindRelay = 2;

double nowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);  // same clock as Date.now(), which JS uses for expiries
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void put16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
void put32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff; }
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// IP (+ port) as a fixed-size map key; port 0 for permission keys.
struct Key {
  uint8_t ip[16];
  uint16_t port;
  uint8_t family;
  bool operator==(const Key& o) const { return family == o.family && port == o.port && memcmp(ip, o.ip, 16) == 0; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = 1469598103934665603ULL;
    for (uint8_t b : k.ip) h = (h ^ b) * 1099511628211ULL;
    h = (h ^ k.port) * 1099511628211ULL;
    return static_cast<size_t>(h ^ k.family);
  }
};

Key keyOf(const sockaddr_storage& ss, bool withPort) {
  Key k{};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    memcpy(k.ip, &a->sin_addr, 4);
    k.port = withPort ? ntohs(a->sin_port) : 0;
    k.family = 4;
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    memcpy(k.ip, &a->sin6_addr, 16);
    k.port = withPort ? ntohs(a->sin6_port) : 0;
    k.family = 6;
  }
  return k;
}

bool parseAddress(const char* ip, int port, sockaddr_storage& ss, socklen_t& len) {
  memset(&ss, 0, sizeof ss);
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Byte budget for the optional per-allocation bitrate cap; one second of burst
// (same rule as relay/dataplane/token-bucket.ts).
struct Bucket {
  double bytesPerSecond = 0, tokens = 0, last = 0;
  void setRate(double kbps, bool fresh) {
    bytesPerSecond = kbps * 1000 / 8;
    if (fresh) { tokens = bytesPerSecond; last = nowMs(); }
    else if (tokens > bytesPerSecond) tokens = bytesPerSecond;
  }
  bool take(size_t bytes, double now) {
    if (bytesPerSecond <= 0) return true;
    double elapsed = now - last;
    if (elapsed > 0) {
      tokens = std::min(bytesPerSecond, tokens + elapsed * bytesPerSecond / 1000);
      last = now;
    }
    if (tokens < bytes) return false;
    tokens -= bytes;
    return true;
  }
};

struct Channel {
  uint16_t number;
  Key permission;
  Key peer;
  sockaddr_storage addr;
  socklen_t addrLen;
  double expiresAt;
};

// What one allocation relayed, for its usage record (same order as the plane's first four counters).
struct Usage {
  double clientToPeerPackets = 0, clientToPeerBytes = 0, peerToClientPackets = 0, peerToClientBytes = 0;
};

struct Relay {
  int fd;
  int listenerId;
  sockaddr_storage client;
  socklen_t clientLen;
  std::unordered_map<Key, double, KeyHash> permissions;
  std::unordered_map<uint16_t, Channel> channels;
  std::unordered_map<Key, uint16_t, KeyHash> channelByPeer;
  Bucket bucket;
  Usage usage;
};

struct Listener {
  int fd;
  std::unordered_map<Key, int, KeyHash> routes;  // client address+port -> relay id
};

// Order matters: JS reads them by index (relay/dataplane/native/native-addon.ts).
struct Counters {
  double clientToPeerPackets = 0, clientToPeerBytes = 0, peerToClientPackets = 0, peerToClientBytes = 0;
  double droppedNoPermission = 0, droppedNoChannel = 0, droppedRateLimited = 0, droppedBackpressure = 0;
  double sendErrors = 0, upcallsDropped = 0;
};

// One datagram waiting in a sendmmsg batch.
struct Out {
  int fd;
  uint8_t header[48];
  iovec iov[3];
  int iovCount;
  sockaddr_storage dst;
  socklen_t dstLen;
};

struct Upcall {
  int listenerId;
  char address[INET6_ADDRSTRLEN];
  int port;
  size_t length;
  uint8_t data[1];
};

const uint8_t kZeros[4] = {0, 0, 0, 0};

struct Plane {
  int ep = -1, wake = -1;
  std::thread thread;
  std::mutex mu;
  std::atomic<bool> stopping{false};
  bool closed = false;
  std::unordered_map<int, std::unique_ptr<Listener>> listeners;
  std::unordered_map<int, std::unique_ptr<Relay>> relays;
  int nextId = 1;
  napi_threadsafe_function upcall = nullptr;
  Counters counters;
  uint8_t tidPrefix[8];
  uint32_t tidCounter = 0;
  std::vector<Out> out;

  // Out entries hold pointers into themselves: the vector must never reallocate
  // (at most kBatch entries are queued before each flush).
  Plane() { out.reserve(kBatch * 2); }

  // ---- per-packet logic (called with mu held) ----

  // Client -> peer ChannelData. `frame` starts with the 4-byte header.
  void channelDataFromClient(Relay& r, uint8_t* frame, size_t n, double now) {
    if (n < 4) return;
    size_t length = get16(frame + 2);
    if (4 + length > n) return;  // truncated: dropped silently, like the JS plane
    auto it = r.channels.find(get16(frame));
    if (it == r.channels.end() || it->second.expiresAt < now) { counters.droppedNoChannel++; return; }
    const Channel& ch = it->second;
    auto perm = r.permissions.find(ch.permission);
    if (perm == r.permissions.end() || perm->second < now) { counters.droppedNoPermission++; return; }
    if (!r.bucket.take(length, now)) { counters.droppedRateLimited++; return; }
    Out& o = push(r.fd, ch.addr, ch.addrLen);
    o.iov[0] = {frame + 4, length};
    o.iovCount = 1;
    counters.clientToPeerPackets++;
    counters.clientToPeerBytes += length;
    r.usage.clientToPeerPackets++;
    r.usage.clientToPeerBytes += length;
  }

  // Peer -> client: ChannelData if a channel is bound to the peer, else a Data indication.
  void fromPeer(Relay& r, uint8_t* data, size_t n, const sockaddr_storage& from, double now) {
    auto perm = r.permissions.find(keyOf(from, false));
    if (perm == r.permissions.end() || perm->second < now) { counters.droppedNoPermission++; return; }
    if (!r.bucket.take(n, now)) { counters.droppedRateLimited++; return; }
    auto lit = listeners.find(r.listenerId);
    if (lit == listeners.end()) { counters.droppedBackpressure++; return; }
    Out& o = push(lit->second->fd, r.client, r.clientLen);
    auto ch = r.channelByPeer.find(keyOf(from, true));
    auto chan = ch == r.channelByPeer.end() ? r.channels.end() : r.channels.find(ch->second);
    if (chan != r.channels.end() && chan->second.expiresAt >= now) {
      put16(o.header, chan->second.number);
      put16(o.header + 2, static_cast<uint16_t>(n));
      o.iov[0] = {o.header, 4};
      o.iov[1] = {data, n};
      o.iovCount = 2;  // UDP ChannelData needs no padding
    } else {
      if (n > 65535 - 48) { out.pop_back(); counters.sendErrors++; return; }  // would not fit a STUN length field
      size_t h = dataIndicationHeader(o.header, from, n);
      size_t pad = (4 - (n & 3)) & 3;
      o.iov[0] = {o.header, h};
      o.iov[1] = {data, n};
      o.iov[2] = {const_cast<uint8_t*>(kZeros), pad};
      o.iovCount = pad ? 3 : 2;
    }
    counters.peerToClientPackets++;
    counters.peerToClientBytes += n;
    r.usage.peerToClientPackets++;
    r.usage.peerToClientBytes += n;
  }

  size_t dataIndicationHeader(uint8_t* h, const sockaddr_storage& from, size_t length) {
    bool v4 = from.ss_family == AF_INET;
    size_t addrLen = v4 ? 8 : 20;
    size_t size = 20 + 4 + addrLen + 4;
    put16(h, kDataIndication);
    put16(h + 2, static_cast<uint16_t>(size - 20 + ((length + 3) & ~size_t{3})));
    put32(h + 4, kMagicCookie);
    memcpy(h + 8, tidPrefix, 8);
    put32(h + 16, ++tidCounter);
    put16(h + 20, kAttrXorPeerAddress);
    put16(h + 22, static_cast<uint16_t>(addrLen));
    h[24] = 0;
    h[25] = v4 ? 1 : 2;
    if (v4) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&from);
      put16(h + 26, ntohs(a->sin_port) ^ (kMagicCookie >> 16));
      put32(h + 28, ntohl(a->sin_addr.s_addr) ^ kMagicCookie);
    } else {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
      put16(h + 26, ntohs(a->sin6_port) ^ (kMagicCookie >> 16));
      const uint8_t* ip = reinterpret_cast<const uint8_t*>(&a->sin6_addr);
      // XOR with magic cookie || transaction id (bytes 4..19 of the header).
      for (int i = 0; i < 16; i++) h[28 + i] = ip[i] ^ h[4 + i];
    }
    put16(h + 20 + 4 + addrLen, kAttrData);
    put16(h + 20 + 4 + addrLen + 2, static_cast<uint16_t>(length));
    return size;
  }

  Out& push(int fd, const sockaddr_storage& dst, socklen_t len) {
    out.emplace_back();
    Out& o = out.back();
    o.fd = fd;
    o.dst = dst;
    o.dstLen = len;
    return o;
  }

  // Sends everything queued; consecutive datagrams for one socket go out in one sendmmsg.
  void flush() {
    mmsghdr msgs[kBatch];
    size_t i = 0;
    while (i < out.size()) {
      int fd = out[i].fd;
      int n = 0;
      while (i + n < out.size() && n < kBatch && out[i + n].fd == fd) {
        Out& o = out[i + n];
        memset(&msgs[n], 0, sizeof msgs[n]);
        msgs[n].msg_hdr.msg_name = &o.dst;
        msgs[n].msg_hdr.msg_namelen = o.dstLen;
        msgs[n].msg_hdr.msg_iov = o.iov;
        msgs[n].msg_hdr.msg_iovlen = o.iovCount;
        n++;
      }
      int done = 0;
      while (done < n) {
        int r = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
        if (r > 0) { done += r; continue; }
        if (r < 0 && errno == EINTR) continue;
        counters.sendErrors++;  // the datagram at `done` failed (EAGAIN, ICMP feedback...): skip it
        done++;
      }
      i += n;
    }
    out.clear();
  }

  // ---- the loop ----

  void run() {
    std::vector<uint8_t> storage(kBatch * kMaxDatagram);
    mmsghdr msgs[kBatch];
    iovec iovs[kBatch];
    sockaddr_storage addrs[kBatch];
    epoll_event events[64];
    while (!stopping.load()) {
      int ready = epoll_wait(ep, events, 64, -1);
      if (ready < 0) { if (errno == EINTR) continue; break; }
      for (int e = 0; e < ready; e++) {
        uint64_t tag = events[e].data.u64;
        uint64_t kind = tag >> 32;
        int id = static_cast<int>(tag & 0xffffffff);
        if (kind == kKindWake) continue;
        std::lock_guard<std::mutex> lock(mu);
        int fd;
        if (kind == kKindListener) {
          auto it = listeners.find(id);
          if (it == listeners.end()) continue;
          fd = it->second->fd;
        } else {
          auto it = relays.find(id);
          if (it == relays.end()) continue;
          fd = it->second->fd;
        }
        for (int i = 0; i < kBatch; i++) {
          iovs[i] = {storage.data() + i * kMaxDatagram, kMaxDatagram};
          memset(&msgs[i], 0, sizeof msgs[i]);
          msgs[i].msg_hdr.msg_name = &addrs[i];
          msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
          msgs[i].msg_hdr.msg_iov = &iovs[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) continue;  // EAGAIN, or an ICMP error reported on the socket: nothing to read
        double now = nowMs();
        for (int i = 0; i < got; i++) {
          size_t n = msgs[i].msg_len;
          if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
          uint8_t* data = static_cast<uint8_t*>(iovs[i].iov_base);
          if (kind == kKindListener) fromClient(id, data, n, addrs[i], now);
          else fromPeer(*relays[id], data, n, addrs[i], now);
        }
        flush();
      }
    }
  }

  void fromClient(int listenerId, uint8_t* data, size_t n, const sockaddr_storage& from, double now) {
    if (n == 0) return;
    uint8_t top = data[0] & 0xc0;
    if (top == 0x40) {
      Listener& l = *listeners[listenerId];
      auto route = l.routes.find(keyOf(from, true));
      auto relay = route == l.routes.end() ? relays.end() : relays.find(route->second);
      if (relay == relays.end()) { counters.droppedNoChannel++; return; }  // no allocation on this 5-tuple
      channelDataFromClient(*relay->second, data, n, now);
      return;
    }
    if (top != 0) return;  // neither STUN nor ChannelData
    upcallToJs(listenerId, data, n, from);
  }

  void upcallToJs(int listenerId, const uint8_t* data, size_t n, const sockaddr_storage& from) {
    auto* u = static_cast<Upcall*>(malloc(sizeof(Upcall) + n));
    if (!u) { counters.upcallsDropped++; return; }
    u->listenerId = listenerId;
    u->length = n;
    memcpy(u->data, data, n);
    if (from.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&from);
      inet_ntop(AF_INET, &a->sin_addr, u->address, sizeof u->address);
      u->port = ntohs(a->sin_port);
    } else {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
      inet_ntop(AF_INET6, &a->sin6_addr, u->address, sizeof u->address);
      u->port = ntohs(a->sin6_port);
    }
    if (napi_call_threadsafe_function(upcall, u, napi_tsfn_nonblocking) != napi_ok) {
      free(u);  // queue full (JS is overloaded) or closing: drop, like a full socket buffer would
      counters.upcallsDropped++;
    }
  }

  bool watch(int fd, uint64_t kind, int id) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (kind << 32) | static_cast<uint32_t>(id);
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  void stop() {
    if (closed) return;
    closed = true;
    stopping.store(true);
    uint64_t one = 1;
    if (write(wake, &one, sizeof one) < 0) { /* the loop also wakes on any socket event */ }
    if (thread.joinable()) thread.join();
    for (auto& [id, r] : relays) close(r->fd);
    for (auto& [id, l] : listeners) close(l->fd);
    relays.clear();
    listeners.clear();
    close(ep);
    close(wake);
    napi_release_threadsafe_function(upcall, napi_tsfn_release);
  }
};

// ---- Node-API glue ----

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, nullptr, "turnrelay native data plane: " #call " failed"); return nullptr; } } while (0)

struct Args {
  napi_env env;
  size_t argc = 8;
  napi_value argv[8];
  Plane* plane = nullptr;
  bool ok = true;

  Args(napi_env e, napi_callback_info info, bool needPlane = true) : env(e) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) { ok = fail("bad call"); return; }
    if (!needPlane) return;
    void* p = nullptr;
    if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) { ok = fail("first argument must be a plane"); return; }
    plane = static_cast<Plane*>(p);
    if (plane->closed) ok = fail("plane is closed");
  }
  bool fail(const char* msg) {
    if (ok) napi_throw_error(env, nullptr, msg);
    ok = false;
    return false;
  }
  int32_t i32(size_t i) {
    int32_t v = 0;
    if (ok && (i >= argc || napi_get_value_int32(env, argv[i], &v) != napi_ok)) fail("expected an integer argument");
    return v;
  }
  double f64(size_t i) {
    double v = 0;
    if (ok && (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok)) fail("expected a number argument");
    return v;
  }
  std::string str(size_t i) {
    char buf[64] = {0};
    size_t len = 0;
    if (ok && (i >= argc || napi_get_value_string_utf8(env, argv[i], buf, sizeof buf, &len) != napi_ok)) fail("expected a string argument");
    return std::string(buf, len);
  }
  std::pair<uint8_t*, size_t> buffer(size_t i) {
    void* data = nullptr;
    size_t len = 0;
    if (ok && (i >= argc || napi_get_buffer_info(env, argv[i], &data, &len) != napi_ok)) fail("expected a Buffer argument");
    return {static_cast<uint8_t*>(data), len};
  }
  bool address(size_t ipIndex, size_t portIndex, sockaddr_storage& ss, socklen_t& len) {
    std::string ip = str(ipIndex);
    int port = portIndex == SIZE_MAX ? 0 : i32(portIndex);
    if (!ok) return false;
    if (port < 0 || port > 65535 || !parseAddress(ip.c_str(), port, ss, len)) return fail("invalid IP address or port");
    return true;
  }
  napi_value undefined() { napi_value u; napi_get_undefined(env, &u); return u; }
  napi_value number(double v) { napi_value n; napi_create_double(env, v, &n); return n; }
  napi_value numbers(const double* values, uint32_t count) {
    napi_value arr;
    if (napi_create_array_with_length(env, count, &arr) != napi_ok) return nullptr;
    for (uint32_t i = 0; i < count; i++) napi_set_element(env, arr, i, number(values[i]));
    return arr;
  }
};

napi_value usageArray(Args& a, const Usage& u) {
  const double values[] = {u.clientToPeerPackets, u.clientToPeerBytes, u.peerToClientPackets, u.peerToClientBytes};
  return a.numbers(values, 4);
}

Relay* findRelay(Args& a, int id) {
  auto it = a.plane->relays.find(id);
  if (it == a.plane->relays.end()) { a.fail("unknown relay endpoint"); return nullptr; }
  return it->second.get();
}

void callJs(napi_env env, napi_value fn, void*, void* data) {
  auto* u = static_cast<Upcall*>(data);
  if (env != nullptr && fn != nullptr) {
    napi_value args[4], undef;
    napi_create_int32(env, u->listenerId, &args[0]);
    void* copy;
    napi_create_buffer_copy(env, u->length, u->data, &copy, &args[1]);
    napi_create_string_utf8(env, u->address, NAPI_AUTO_LENGTH, &args[2]);
    napi_create_int32(env, u->port, &args[3]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, fn, 4, args, nullptr);
  }
  free(u);
}

void finalizePlane(napi_env, void* data, void*) {
  auto* p = static_cast<Plane*>(data);
  {
    // A plane that JS forgot to close still stops its thread before it is freed.
    if (!p->closed) p->stop();
  }
  delete p;
}

// create(onPacket) -> plane
napi_value Create(napi_env env, napi_callback_info info) {
  Args a(env, info, false);
  if (!a.ok) return nullptr;
  napi_valuetype t;
  if (a.argc < 1 || napi_typeof(env, a.argv[0], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, nullptr, "create(onPacket) needs a callback");
    return nullptr;
  }
  auto* p = new Plane();
  std::random_device rd;
  for (auto& b : p->tidPrefix) b = static_cast<uint8_t>(rd());
  p->ep = epoll_create1(EPOLL_CLOEXEC);
  p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (p->ep < 0 || p->wake < 0 || !p->watch(p->wake, kKindWake, 0)) {
    delete p;
    napi_throw_error(env, nullptr, "native data plane: epoll/eventfd setup failed");
    return nullptr;
  }
  napi_value name;
  napi_create_string_utf8(env, "turnrelay-dataplane-upcall", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_threadsafe_function(env, a.argv[0], nullptr, name, kUpcallQueue, 1, nullptr, nullptr, nullptr, callJs, &p->upcall));
  // The loop thread must not keep Node alive; the listeners JS wraps decide that.
  napi_unref_threadsafe_function(env, p->upcall);
  p->thread = std::thread([p] { p->run(); });
  napi_value ext;
  CHECK(napi_create_external(env, p, finalizePlane, nullptr, &ext));
  return ext;
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args a(env, info, false);
  void* p = nullptr;
  if (a.argc < 1 || napi_get_value_external(env, a.argv[0], &p) != napi_ok || !p) return a.undefined();
  static_cast<Plane*>(p)->stop();
  return a.undefined();
}

// Takes a duplicate of a bound UDP socket; the caller closes its own copy.
int adoptFd(Args& a, int fd) {
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) { a.fail("cannot duplicate the socket"); return -1; }
  fcntl(own, F_SETFL, fcntl(own, F_GETFL) | O_NONBLOCK);
  return own;
}

// addListener(plane, fd) -> id
napi_value AddListener(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int fd = a.i32(1);
  if (!a.ok) return nullptr;
  int own = adoptFd(a, fd);
  if (own < 0) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  int id = a.plane->nextId++;
  a.plane->listeners[id] = std::unique_ptr<Listener>(new Listener{own, {}});
  if (!a.plane->watch(own, kKindListener, id)) { a.plane->listeners.erase(id); close(own); a.fail("epoll_ctl failed"); return nullptr; }
  return a.number(id);
}

// openRelay(plane, fd, listenerId, clientIp, clientPort, kbps) -> id
napi_value OpenRelay(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int fd = a.i32(1), listenerId = a.i32(2);
  sockaddr_storage client;
  socklen_t clientLen = 0;
  a.address(3, 4, client, clientLen);
  double kbps = a.f64(5);
  if (!a.ok) return nullptr;
  int own = adoptFd(a, fd);
  if (own < 0) return nullptr;
  auto r = std::make_unique<Relay>();
  r->fd = own;
  r->listenerId = listenerId;
  r->client = client;
  r->clientLen = clientLen;
  if (kbps > 0) r->bucket.setRate(kbps, true);
  std::lock_guard<std::mutex> lock(a.plane->mu);
  int id = a.plane->nextId++;
  a.plane->relays[id] = std::move(r);
  if (!a.plane->watch(own, kKindRelay, id)) { a.plane->relays.erase(id); close(own); a.fail("epoll_ctl failed"); return nullptr; }
  return a.number(id);
}

// closeRelay(plane, id) -> usage: stops forwarding and closes the socket (frees the port);
// returns what the allocation relayed, in the order of struct Usage (undefined if unknown).
napi_value CloseRelay(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  auto it = a.plane->relays.find(id);
  if (it == a.plane->relays.end()) return a.undefined();
  napi_value usage = usageArray(a, it->second->usage);
  epoll_ctl(a.plane->ep, EPOLL_CTL_DEL, it->second->fd, nullptr);
  close(it->second->fd);
  for (auto& [lid, l] : a.plane->listeners) {
    for (auto r = l->routes.begin(); r != l->routes.end();) r = r->second == id ? l->routes.erase(r) : std::next(r);
  }
  a.plane->relays.erase(it);
  return usage;
}

// relayUsage(plane, id) -> number[] in the order of struct Usage: what a live allocation relayed so far.
napi_value RelayUsage(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  if (!a.ok) return nullptr;
  Usage u;
  {
    std::lock_guard<std::mutex> lock(a.plane->mu);
    Relay* r = findRelay(a, id);
    if (!r) return nullptr;
    u = r->usage;
  }
  return usageArray(a, u);
}

napi_value RemoveListener(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  auto it = a.plane->listeners.find(id);
  if (it == a.plane->listeners.end()) return a.undefined();
  epoll_ctl(a.plane->ep, EPOLL_CTL_DEL, it->second->fd, nullptr);
  close(it->second->fd);
  a.plane->listeners.erase(it);
  return a.undefined();
}

// setRoute(plane, listenerId, clientIp, clientPort, relayId); relayId 0 removes the route.
napi_value SetRoute(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int listenerId = a.i32(1);
  sockaddr_storage ss;
  socklen_t len;
  a.address(2, 3, ss, len);
  int relayId = a.i32(4);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  auto it = a.plane->listeners.find(listenerId);
  if (it == a.plane->listeners.end()) return a.undefined();
  if (relayId == 0) it->second->routes.erase(keyOf(ss, true));
  else it->second->routes[keyOf(ss, true)] = relayId;
  return a.undefined();
}

// permit(plane, relayId, peerIp, expiresAtMs)
napi_value Permit(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  sockaddr_storage ss;
  socklen_t len;
  a.address(2, SIZE_MAX, ss, len);
  double exp = a.f64(3);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (r) r->permissions[keyOf(ss, false)] = exp;
  return a.undefined();
}

void unbind(Relay& r, uint16_t channel) {
  auto it = r.channels.find(channel);
  if (it == r.channels.end()) return;
  auto byPeer = r.channelByPeer.find(it->second.peer);
  if (byPeer != r.channelByPeer.end() && byPeer->second == channel) r.channelByPeer.erase(byPeer);
  r.channels.erase(it);
}

// revoke(plane, relayId, peerIp): also unbinds that peer's channels.
napi_value Revoke(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  sockaddr_storage ss;
  socklen_t len;
  a.address(2, SIZE_MAX, ss, len);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (!r) return nullptr;
  Key k = keyOf(ss, false);
  r->permissions.erase(k);
  std::vector<uint16_t> gone;
  for (auto& [num, ch] : r->channels) if (ch.permission == k) gone.push_back(num);
  for (uint16_t num : gone) unbind(*r, num);
  return a.undefined();
}

// bindChannel(plane, relayId, channel, peerIp, peerPort, expiresAtMs)
napi_value BindChannel(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1), number = a.i32(2);
  sockaddr_storage ss;
  socklen_t len;
  a.address(3, 4, ss, len);
  double exp = a.f64(5);
  if (!a.ok) return nullptr;
  if (number < 0x4000 || number > 0x7fff) { a.fail("channel number out of range"); return nullptr; }
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (!r) return nullptr;
  Channel ch{static_cast<uint16_t>(number), keyOf(ss, false), keyOf(ss, true), ss, len, exp};
  r->channels[ch.number] = ch;
  r->channelByPeer[ch.peer] = ch.number;
  return a.undefined();
}

napi_value UnbindChannel(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1), number = a.i32(2);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (r) unbind(*r, static_cast<uint16_t>(number));
  return a.undefined();
}

napi_value SetBitrate(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  double kbps = a.f64(2);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (r) r->bucket.setRate(kbps > 0 ? kbps : 0, r->bucket.bytesPerSecond <= 0);
  return a.undefined();
}

// channelData(plane, relayId, frame): client ChannelData that reached JS (not the hot path).
napi_value ChannelData(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  auto [data, n] = a.buffer(2);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (!r) return nullptr;
  a.plane->channelDataFromClient(*r, data, n, nowMs());
  a.plane->flush();
  return a.undefined();
}

// sendToPeer(plane, relayId, peerIp, peerPort, payload): Send indication data (permission checked by JS).
napi_value SendToPeer(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  sockaddr_storage ss;
  socklen_t len;
  a.address(2, 3, ss, len);
  auto [data, n] = a.buffer(4);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  Relay* r = findRelay(a, id);
  if (!r) return nullptr;
  Plane& p = *a.plane;
  if (!r->bucket.take(n, nowMs())) { p.counters.droppedRateLimited++; return a.undefined(); }
  if (sendto(r->fd, data, n, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len) < 0) p.counters.sendErrors++;
  p.counters.clientToPeerPackets++;
  p.counters.clientToPeerBytes += n;
  r->usage.clientToPeerPackets++;
  r->usage.clientToPeerBytes += n;
  return a.undefined();
}

// sendFromListener(plane, listenerId, message, clientIp, clientPort): STUN responses and the like.
napi_value SendFromListener(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  auto [data, n] = a.buffer(2);
  sockaddr_storage ss;
  socklen_t len;
  a.address(3, 4, ss, len);
  if (!a.ok) return nullptr;
  std::lock_guard<std::mutex> lock(a.plane->mu);
  auto it = a.plane->listeners.find(id);
  if (it == a.plane->listeners.end()) return a.undefined();
  if (sendto(it->second->fd, data, n, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len) < 0) a.plane->counters.sendErrors++;
  return a.undefined();
}

// counters(plane) -> number[] in the order of struct Counters.
napi_value GetCounters(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (!a.ok) return nullptr;
  Counters c;
  {
    std::lock_guard<std::mutex> lock(a.plane->mu);
    c = a.plane->counters;
  }
  const double values[] = {c.clientToPeerPackets, c.clientToPeerBytes, c.peerToClientPackets, c.peerToClientBytes,
                           c.droppedNoPermission, c.droppedNoChannel, c.droppedRateLimited, c.droppedBackpressure,
                           c.sendErrors, c.upcallsDropped};
  return a.numbers(values, sizeof values / sizeof values[0]);
}

napi_value Init(napi_env env, napi_value exports) {
  const struct { const char* name; napi_callback fn; } fns[] = {
      {"create", Create}, {"close", Close}, {"addListener", AddListener}, {"removeListener", RemoveListener},
      {"openRelay", OpenRelay}, {"closeRelay", CloseRelay}, {"setRoute", SetRoute}, {"permit", Permit},
      {"revoke", Revoke}, {"bindChannel", BindChannel}, {"unbindChannel", UnbindChannel},
      {"setBitrate", SetBitrate}, {"channelData", ChannelData}, {"sendToPeer", SendToPeer},
      {"sendFromListener", SendFromListener}, {"counters", GetCounters}, {"relayUsage", RelayUsage},
  };
  for (const auto& f : fns) {
    napi_value v;
    CHECK(napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v));
    CHECK(napi_set_named_property(env, exports, f.name, v));
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
