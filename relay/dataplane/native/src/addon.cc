// Node-API glue: the functions relay/dataplane/native/native-addon.ts
// describes. A plane is N workers (worker.h); JS calls are checked here and
// turned into commands for the worker that owns the allocation, so the JS
// thread never waits for a worker's batch.
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "worker.h"

namespace turnrelay {
namespace {

// STUN datagrams waiting for the JS thread, bounded by count and by the bytes they hold.
// 8 MiB is 4096 datagrams of 2 KiB: STUN and TURN over UDP stay under the path MTU (a Send
// indication carrying a media packet is ~1.3 KB), so honest traffic meets the count bound
// first; only oversized datagrams meet the byte bound, and they pin at most 8 MiB (twice the
// receive buffer asked for a listener socket) where the count alone allowed 4096 x 64 KiB.
constexpr size_t kUpcallQueue = 4096;
constexpr size_t kUpcallBytes = 8 * 1024 * 1024;
constexpr int kMaxThreads = 1024;  // relay ids carry the lane in their low 10 bits
constexpr int kListenerBuffer = 4 * 1024 * 1024;

struct Plane {
  std::vector<std::unique_ptr<Worker>> workers;
  // listener id -> one socket per lane; used by the JS thread only (sends of STUN responses).
  std::unordered_map<int, std::vector<int>> listeners;
  int nextListenerId = 1;
  int64_t nextRelay = 1;
  napi_threadsafe_function upcall = nullptr;
  std::shared_ptr<UpcallBudget> upcallBudget = std::make_shared<UpcallBudget>(kUpcallBytes);
  Counters jsCounters;  // written by the JS thread only
  // Usage of each live relay, written by its worker and read here without asking it.
  std::unordered_map<int64_t, std::shared_ptr<Usage>> usage;
  bool closed = false;

  Worker* owner(int64_t relayId) {
    size_t lane = static_cast<size_t>(relayId % kMaxThreads);
    return lane < workers.size() ? workers[lane].get() : nullptr;
  }

  void stop() {
    if (closed) return;
    closed = true;
    for (auto& w : workers) w->stop();
    listeners.clear();  // the workers closed the sockets
    usage.clear();
    napi_release_threadsafe_function(upcall, napi_tsfn_release);
  }
};

struct Args {
  napi_env env;
  size_t argc = 10;
  napi_value argv[10];
  Plane* plane = nullptr;
  bool ok = true;

  // needPlane: argv[0] must be a plane, and an open one unless closedToo.
  Args(napi_env e, napi_callback_info info, bool needPlane = true, bool closedToo = false) : env(e) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
      ok = fail("bad call");
      return;
    }
    if (!needPlane) return;
    void* p = nullptr;
    if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
      ok = fail("first argument must be a plane");
      return;
    }
    plane = static_cast<Plane*>(p);
    if (plane->closed && !closedToo) ok = fail("plane is closed");
  }
  bool fail(const char* msg, const char* code = nullptr) {
    if (ok) napi_throw_error(env, code, msg);
    ok = false;
    return false;
  }
  int32_t i32(size_t i) {
    int32_t v = 0;
    if (ok && (i >= argc || napi_get_value_int32(env, argv[i], &v) != napi_ok)) fail("expected an integer argument");
    return v;
  }
  int64_t i64(size_t i) {
    int64_t v = 0;
    if (ok && (i >= argc || napi_get_value_int64(env, argv[i], &v) != napi_ok)) fail("expected an integer argument");
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
    if (ok && (i >= argc || napi_get_value_string_utf8(env, argv[i], buf, sizeof buf, &len) != napi_ok))
      fail("expected a string argument");
    return std::string(buf, len);
  }
  std::pair<uint8_t*, size_t> buffer(size_t i) {
    void* data = nullptr;
    size_t len = 0;
    if (ok && (i >= argc || napi_get_buffer_info(env, argv[i], &data, &len) != napi_ok))
      fail("expected a Buffer argument");
    return {static_cast<uint8_t*>(data), len};
  }
  bool address(size_t ipIndex, size_t portIndex, sockaddr_storage& ss, socklen_t& len) {
    std::string ip = str(ipIndex);
    int port = portIndex == SIZE_MAX ? 0 : i32(portIndex);
    if (!ok) return false;
    if (!parseAddress(ip.c_str(), port, ss, len)) return fail("invalid IP address or port");
    return true;
  }
  Worker* owner(int64_t relayId) {
    Worker* w = ok ? plane->owner(relayId) : nullptr;
    if (ok && !w) fail("unknown relay endpoint");
    return w;
  }
  Worker* lane(int32_t lane) {
    if (ok && (lane < 0 || static_cast<size_t>(lane) >= plane->workers.size())) {
      fail("lane out of range");
      return nullptr;
    }
    return ok ? plane->workers[lane].get() : nullptr;
  }
  napi_value undefined() {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  napi_value number(double v) {
    napi_value n;
    napi_create_double(env, v, &n);
    return n;
  }
};

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != napi_ok) {                                                           \
      napi_throw_error(env, nullptr, "turnrelay native data plane: " #call " failed"); \
      return nullptr;                                                                  \
    }                                                                                  \
  } while (0)

void callJs(napi_env env, napi_value fn, void*, void* data) {
  auto* u = static_cast<Upcall*>(data);
  if (env != nullptr && fn != nullptr) {
    napi_value args[5], undef;
    napi_create_int32(env, u->listenerId, &args[0]);
    napi_create_int32(env, u->lane, &args[1]);
    void* copy;
    napi_create_buffer_copy(env, u->length, u->data, &copy, &args[2]);
    napi_create_string_utf8(env, u->address, NAPI_AUTO_LENGTH, &args[3]);
    napi_create_int32(env, u->port, &args[4]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, fn, 5, args, nullptr);
  }
  Upcall::destroy(u);  // also when env is null: the queue is flushed at teardown
}

void finalizePlane(napi_env, void* data, void*) {
  auto* p = static_cast<Plane*>(data);
  p->stop();  // a plane JS forgot to close still stops its threads before it is freed
  delete p;
}

// create(threads, onPacket, coalesceMicros) -> plane
napi_value Create(napi_env env, napi_callback_info info) {
  Args a(env, info, false);
  int32_t threads = a.i32(0);
  if (!a.ok) return nullptr;
  napi_valuetype t;
  if (a.argc < 2 || napi_typeof(env, a.argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, nullptr, "create(threads, onPacket, coalesceMicros) needs a callback");
    return nullptr;
  }
  int32_t coalesceMicros = a.i32(2);
  if (!a.ok) return nullptr;
  if (threads < 1 || threads > kMaxThreads) {
    a.fail("threads must be between 1 and 1024");
    return nullptr;
  }
  if (coalesceMicros < 0 || coalesceMicros > kMaxCoalesceMicros) {
    a.fail("coalesceMicros must be between 0 and 10000");
    return nullptr;
  }
  auto p = std::make_unique<Plane>();
  napi_value name;
  napi_create_string_utf8(env, "turnrelay-dataplane-upcall", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_threadsafe_function(env, a.argv[1], nullptr, name, kUpcallQueue, 1, nullptr, nullptr, nullptr,
                                        callJs, &p->upcall));
  // The loop threads must not keep Node alive; the listeners JS wraps decide that.
  napi_unref_threadsafe_function(env, p->upcall);
  for (int i = 0; i < threads; i++) {
    p->workers.push_back(std::make_unique<Worker>(i, p->upcall, p->upcallBudget, coalesceMicros));
    if (!p->workers.back()->ok()) {
      napi_release_threadsafe_function(p->upcall, napi_tsfn_release);
      napi_throw_error(env, nullptr, "native data plane: epoll/eventfd setup failed");
      return nullptr;
    }
  }
  std::vector<Worker*> lanes;
  for (auto& w : p->workers) lanes.push_back(w.get());
  for (auto& w : p->workers) w->setLanes(lanes);
  for (auto& w : p->workers) w->start();
  napi_value ext;
  Plane* raw = p.release();
  if (napi_create_external(env, raw, finalizePlane, nullptr, &ext) != napi_ok) {
    finalizePlane(env, raw, nullptr);
    napi_throw_error(env, nullptr, "native data plane: napi_create_external failed");
    return nullptr;
  }
  return ext;
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args a(env, info, false);
  void* p = nullptr;
  if (a.argc < 1 || napi_get_value_external(env, a.argv[0], &p) != napi_ok || !p) return a.undefined();
  static_cast<Plane*>(p)->stop();
  return a.undefined();
}

int udpSocket(const sockaddr_storage& ss, bool reusePort) {
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// listen(plane, ip, port) -> [listenerId, boundPort]: one SO_REUSEPORT socket per lane.
napi_value Listen(napi_env env, napi_callback_info info) {
  Args a(env, info);
  sockaddr_storage ss;
  socklen_t len = 0;
  a.address(1, 2, ss, len);
  if (!a.ok) return nullptr;
  auto bindError = [&](int err) {
    std::string msg = std::string("bind ") + strerror(err) + " " + a.str(1) + ":" + std::to_string(a.i32(2));
    a.fail(msg.c_str(), err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : "EBIND");
    return nullptr;
  };
  // SO_REUSEPORT would let a second process of this user share the port silently:
  // a plain bind first proves nobody holds it (only our own sockets join afterwards).
  if (reinterpret_cast<sockaddr_in*>(&ss)->sin_port != 0) {
    int probe = udpSocket(ss, false);
    if (probe < 0) return bindError(errno);
    int r = bind(probe, reinterpret_cast<sockaddr*>(&ss), len);
    int err = errno;
    close(probe);
    if (r != 0) return bindError(err);
  }
  std::vector<int> fds;
  for (size_t i = 0; i < a.plane->workers.size(); i++) {
    int fd = udpSocket(ss, true);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      for (int f : fds) close(f);
      return bindError(err);
    }
    // One socket per lane carries all of its UDP clients: larger kernel buffers absorb bursts
    // (Linux caps them at net.core.rmem_max/wmem_max; failing to raise them is harmless).
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kListenerBuffer, sizeof kListenerBuffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kListenerBuffer, sizeof kListenerBuffer);
    if (i == 0)
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);  // port 0: the rest join the port the kernel chose
    fds.push_back(fd);
  }
  int id = a.plane->nextListenerId++;
  a.plane->listeners[id] = fds;
  for (size_t i = 0; i < fds.size(); i++) {
    Command c(Command::AddListener);
    c.listenerId = id;
    c.fd = fds[i];
    a.plane->workers[i]->post(std::move(c));
  }
  int port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  napi_set_element(env, arr, 0, a.number(id));
  napi_set_element(env, arr, 1, a.number(port));
  return arr;
}

napi_value RemoveListener(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1);
  if (!a.ok) return nullptr;
  if (a.plane->listeners.erase(id) == 0) return a.undefined();
  for (auto& w : a.plane->workers) {
    Command c(Command::RemoveListener);
    c.listenerId = id;
    w->post(std::move(c));
  }
  return a.undefined();
}

// openRelay(plane, lane, fd, listenerId, clientIp, clientPort, kbps[, relayedIp, relayedPort]) -> relay id
// relayedIp/Port: the allocation's relayed address when it is this host's own (see byRelayed_).
napi_value OpenRelay(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Worker* w = a.lane(a.i32(1));
  int fd = a.i32(2), listenerId = a.i32(3);
  Command c(Command::OpenRelay);
  a.address(4, 5, c.addr, c.addrLen);
  c.value = a.f64(6);
  napi_valuetype relayedType = napi_undefined;
  if (a.ok && a.argc > 7) napi_typeof(env, a.argv[7], &relayedType);
  if (relayedType == napi_string) a.address(7, 8, c.relayed, c.relayedLen);
  if (!a.ok) return nullptr;
  // A duplicate the worker owns; the caller closes its own copy.
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    a.fail("cannot duplicate the relay socket");
    return nullptr;
  }
  fcntl(own, F_SETFL, fcntl(own, F_GETFL) | O_NONBLOCK);
  c.fd = own;
  c.listenerId = listenerId;
  c.relayId = a.plane->nextRelay++ * kMaxThreads + w->lane();
  c.usage = std::make_shared<Usage>();
  a.plane->usage[c.relayId] = c.usage;
  int64_t id = c.relayId;
  w->post(std::move(c));
  return a.number(static_cast<double>(id));
}

napi_value usageArray(Args& a, const Usage& u) {
  napi_value arr;
  if (napi_create_array_with_length(a.env, 4, &arr) != napi_ok) return nullptr;
  const Counter* values[] = {&u.clientToPeerPackets, &u.clientToPeerBytes, &u.peerToClientPackets,
                             &u.peerToClientBytes};
  for (uint32_t i = 0; i < 4; i++) napi_set_element(a.env, arr, i, a.number(static_cast<double>(values[i]->get())));
  return arr;
}

// closeRelay(plane, id) -> usage: stops forwarding and closes the socket (frees the port) on
// the owning thread. Returns what the allocation relayed, in the order of struct Usage
// (undefined if unknown); datagrams the worker handles before it applies the close are not in it.
napi_value CloseRelay(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Command c(Command::CloseRelay);
  c.relayId = a.i64(1);
  Worker* w = a.owner(c.relayId);
  if (!a.ok) return nullptr;
  auto it = a.plane->usage.find(c.relayId);
  if (it == a.plane->usage.end()) return a.undefined();
  napi_value usage = usageArray(a, *it->second);
  a.plane->usage.erase(it);
  w->post(std::move(c));
  return usage;
}

// relayUsage(plane, id) -> number[] in the order of struct Usage: what a live allocation relayed so far.
napi_value RelayUsage(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t id = a.i64(1);
  if (!a.ok) return nullptr;
  auto it = a.plane->usage.find(id);
  if (it == a.plane->usage.end()) {
    a.fail("unknown relay endpoint");
    return nullptr;
  }
  return usageArray(a, *it->second);
}

// setRoute(plane, listenerId, lane, clientIp, clientPort, relayId); relayId 0 removes the route.
napi_value SetRoute(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Command c(Command::SetRoute);
  c.listenerId = a.i32(1);
  Worker* w = a.lane(a.i32(2));
  a.address(3, 4, c.addr, c.addrLen);
  c.relayId = a.i64(5);
  if (!a.ok) return nullptr;
  w->post(std::move(c));
  return a.undefined();
}

// A command for an existing relay: relay id in argv[1], then what `fill` reads.
template <typename Fill>
napi_value RelayCommand(napi_env env, napi_callback_info info, Command::Op op, Fill fill) {
  Args a(env, info);
  Command c(op);
  c.relayId = a.i64(1);
  Worker* w = a.owner(c.relayId);
  fill(a, c);
  if (!a.ok) return nullptr;
  w->post(std::move(c));
  return a.undefined();
}

// permit(plane, relayId, peerIp, expiresAtMs)
napi_value Permit(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::Permit, [](Args& a, Command& c) {
    a.address(2, SIZE_MAX, c.addr, c.addrLen);
    c.value = a.f64(3);
  });
}

// revoke(plane, relayId, peerIp): also unbinds that peer's channels.
napi_value Revoke(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::Revoke,
                      [](Args& a, Command& c) { a.address(2, SIZE_MAX, c.addr, c.addrLen); });
}

// bindChannel(plane, relayId, channel, peerIp, peerPort, expiresAtMs)
napi_value BindChannel(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::Bind, [](Args& a, Command& c) {
    int32_t number = a.i32(2);
    a.address(3, 4, c.addr, c.addrLen);
    c.value = a.f64(5);
    if (a.ok && (number < 0x4000 || number > 0x7fff)) a.fail("channel number out of range");
    c.channel = static_cast<uint16_t>(number);
  });
}

napi_value UnbindChannel(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::Unbind,
                      [](Args& a, Command& c) { c.channel = static_cast<uint16_t>(a.i32(2)); });
}

napi_value SetBitrate(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::SetBitrate, [](Args& a, Command& c) { c.value = a.f64(2); });
}

// channelData(plane, relayId, frame): client ChannelData that reached JS (not the hot path).
napi_value ChannelData(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::ChannelData, [](Args& a, Command& c) {
    auto [data, n] = a.buffer(2);
    if (a.ok) c.payload.assign(data, data + n);
  });
}

// sendToPeer(plane, relayId, peerIp, peerPort, payload): Send indication data (permission checked by JS).
napi_value SendToPeer(napi_env env, napi_callback_info info) {
  return RelayCommand(env, info, Command::SendToPeer, [](Args& a, Command& c) {
    a.address(2, 3, c.addr, c.addrLen);
    auto [data, n] = a.buffer(4);
    if (a.ok) c.payload.assign(data, data + n);
  });
}

// sendFromListener(plane, listenerId, lane, message, clientIp, clientPort): STUN responses,
// sent right here on the lane's socket: they never wait for a worker's batch.
napi_value SendFromListener(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int id = a.i32(1), lane = a.i32(2);
  auto [data, n] = a.buffer(3);
  sockaddr_storage ss;
  socklen_t len;
  a.address(4, 5, ss, len);
  if (!a.ok) return nullptr;
  auto it = a.plane->listeners.find(id);
  if (it == a.plane->listeners.end() || lane < 0 || static_cast<size_t>(lane) >= it->second.size())
    return a.undefined();
  if (sendto(it->second[lane], data, n, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    a.plane->jsCounters[kSendErrors].add();
  return a.undefined();
}

// counters(plane) -> number[] in CounterId order, summed over the workers.
napi_value GetCounters(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (!a.ok) return nullptr;
  napi_value arr;
  CHECK(napi_create_array_with_length(env, kCounterCount, &arr));
  for (int i = 0; i < kCounterCount; i++) {
    uint64_t sum = a.plane->jsCounters.get(i);
    for (auto& w : a.plane->workers) sum += w->counters().get(i);
    napi_set_element(env, arr, i, a.number(static_cast<double>(sum)));
  }
  return arr;
}

napi_value RelaysPerThread(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (!a.ok) return nullptr;
  napi_value arr;
  CHECK(napi_create_array_with_length(env, a.plane->workers.size(), &arr));
  for (size_t i = 0; i < a.plane->workers.size(); i++)
    napi_set_element(env, arr, i, a.number(a.plane->workers[i]->relayCount()));
  return arr;
}

// upcallBytes(plane) -> bytes the STUN datagrams queued for the JS thread hold (0 once JS caught
// up). Also on a closed plane: the datagrams queued at close give their bytes back as they are freed.
napi_value UpcallBytes(napi_env env, napi_callback_info info) {
  Args a(env, info, true, true);
  if (!a.ok) return nullptr;
  return a.number(static_cast<double>(a.plane->upcallBudget->used()));
}

napi_value Init(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
      {"create", Create},
      {"close", Close},
      {"listen", Listen},
      {"removeListener", RemoveListener},
      {"openRelay", OpenRelay},
      {"closeRelay", CloseRelay},
      {"setRoute", SetRoute},
      {"permit", Permit},
      {"revoke", Revoke},
      {"bindChannel", BindChannel},
      {"unbindChannel", UnbindChannel},
      {"setBitrate", SetBitrate},
      {"channelData", ChannelData},
      {"sendToPeer", SendToPeer},
      {"sendFromListener", SendFromListener},
      {"counters", GetCounters},
      {"relaysPerThread", RelaysPerThread},
      {"upcallBytes", UpcallBytes},
      {"relayUsage", RelayUsage},
  };
  for (const auto& f : fns) {
    napi_value v;
    CHECK(napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v));
    CHECK(napi_set_named_property(env, exports, f.name, v));
  }
  return exports;
}

}  // namespace
}  // namespace turnrelay

NAPI_MODULE(NODE_GYP_MODULE_NAME, turnrelay::Init)
