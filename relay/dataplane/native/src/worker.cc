#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <random>

namespace turnrelay {

namespace {
constexpr uint64_t kKindWake = 0, kKindListener = 1, kKindRelay = 2;
constexpr size_t kOutCapacity = kArenaSlots;
// Slots are padded so that their first bytes (all a small datagram touches) do not share
// one cache set, as a plain 64 KiB stride would make them.
constexpr size_t kSlot = kMaxDatagram + 192;
constexpr int kListenerRounds = 4;  // recvmmsg batches per listener wakeup
// Bytes of handed-over datagrams a lane's inbox holds at most, like a relay socket's receive
// buffer: past it, a lane that cannot keep up loses datagrams instead of growing without bound.
constexpr size_t kInboxBytes = 4 * 1024 * 1024;
// A lane sends its handovers at the end of each wakeup, or earlier once they hold this much.
constexpr size_t kOutboundBytes = 256 * 1024;
// So a whole batch (sent once it passes kOutboundBytes) always fits an empty inbox.
static_assert(kOutboundBytes + kMaxDatagram <= kInboxBytes, "an outbound batch must fit an empty inbox");
const uint8_t kZeros[4] = {0, 0, 0, 0};
// epoll tags: kind in the top 8 bits, the id (listener id or relay id) below.
uint64_t tag(uint64_t kind, int64_t id) { return (kind << 56) | (static_cast<uint64_t>(id) & ((1ULL << 56) - 1)); }

constexpr int64_t kNanosPerSecond = 1000000000LL;

int64_t monotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * kNanosPerSecond + now.tv_nsec;
}
}  // namespace

Worker::Worker(int lane, napi_threadsafe_function upcall, std::shared_ptr<UpcallBudget> budget, int coalesceMicros)
    : lane_(lane),
      coalesceMicros_(coalesceMicros),
      windowStart_(monotonicNanos()),
      upcall_(upcall),
      budget_(std::move(budget)) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ok() && !watch(wake_, kKindWake, 0)) {
    close(wake_);
    wake_ = -1;
  }
  // Out entries point into themselves: the vector never grows past its reserve (push flushes first).
  out_.reserve(kOutCapacity);
  // Set up once: recvmmsg only writes msg_len, msg_namelen and msg_flags, and drain() restores
  // msg_namelen of the entries a call used. Only the pages datagrams touch become resident.
  storage_.reset(new uint8_t[kArenaSlots * kSlot]);
  msgs_.assign(kArenaSlots, mmsghdr{});
  iovs_.resize(kArenaSlots);
  addrs_.resize(kArenaSlots);
  for (int i = 0; i < kArenaSlots; i++) {
    iovs_[i] = {storage_.get() + i * kSlot, kMaxDatagram};
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof addrs_[i];
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  std::random_device rd;
  for (auto& b : tid_) b = static_cast<uint8_t>(rd());
}

Worker::~Worker() {
  if (ep_ >= 0) close(ep_);
  if (wake_ >= 0) close(wake_);
}

void Worker::start() {
  outbound_.resize(lanes_.size());
  thread_ = std::thread([this] { run(); });
  // Named for top -H, perf and bench/profile.ts (at most 15 characters).
  char name[16];
  snprintf(name, sizeof name, "dataplane-%d", lane_);
  pthread_setname_np(thread_.native_handle(), name);
}

namespace {
// Commands with an effect of their own: the loop must run them even if no datagram arrives
// (a socket to watch or close, data to send). The others only change how datagrams are
// judged, and the loop applies queued commands before it handles any datagram, so they
// need no wakeup: that spares the JS thread an eventfd write (and the worker a wakeup) for
// each permission, channel and route.
bool needsWakeup(Command::Op op) {
  switch (op) {
    case Command::AddListener:
    case Command::RemoveListener:
    case Command::OpenRelay:
    case Command::CloseRelay:
    case Command::ChannelData:
    case Command::SendToPeer:
      return true;
    default:
      return false;
  }
}
// Commands that wait for a datagram are applied at the latest once this many are queued.
constexpr size_t kLazyCommands = 256;
}  // namespace

void Worker::post(Command&& c) {
  bool wake = needsWakeup(c.op);
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    queue_.push_back(std::move(c));
    wake = wake || queue_.size() >= kLazyCommands;
  }
  pending_.store(true, std::memory_order_release);
  if (wake) wakeUp();
}

void Worker::wakeUp() {
  uint64_t one = 1;
  if (write(wake_, &one, sizeof one) < 0) { /* counter saturated: the loop is awake anyway */
  }
}

void Worker::stop() {
  stopping_.store(true);
  wakeUp();
  if (thread_.joinable()) thread_.join();
  for (auto& [id, r] : relays_) close(r->fd);
  for (auto& [id, s] : sockets_) close(s.fd);
  byRelayed_.clear();
  relays_.clear();
  sockets_.clear();
  relayCount_.store(0);
  // Sockets handed over but never applied are still ours to close.
  std::lock_guard<std::mutex> lock(queueMu_);
  for (auto& c : queue_)
    if ((c.op == Command::OpenRelay || c.op == Command::AddListener) && c.fd >= 0) close(c.fd);
  queue_.clear();
}

bool Worker::watch(int fd, uint64_t kind, int64_t id) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(kind, id);
  return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Worker::applyCommands() {
  if (!pending_.exchange(false, std::memory_order_acquire)) return false;
  // Sends still queued go out first: a command may close their socket, and its fd number
  // could then belong to a socket JavaScript opens meanwhile for another allocation.
  flush();
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    applying_.swap(queue_);
  }
  for (auto& c : applying_) apply(c);
  flush();  // sends queued by commands point into applying_
  applying_.clear();
  return true;
}

void Worker::closeRelay(int64_t id) {
  auto it = relays_.find(id);
  if (it == relays_.end()) return;
  Relay* gone = it->second.get();
  if (gone->relayedLen) {
    auto own = byRelayed_.find(keyOf(gone->relayed, true));
    if (own != byRelayed_.end() && own->second.local == gone) {
      byRelayed_.erase(own);
      // Before the port is free: once anyone can see it closed, no lane hands over to it any more.
      tellLanes(Command::Withdraw, gone->relayed);
    }
  }
  epoll_ctl(ep_, EPOLL_CTL_DEL, gone->fd, nullptr);
  close(gone->fd);
  for (auto& [lid, s] : sockets_) {
    for (auto r = s.routes.begin(); r != s.routes.end();) r = r->second == gone ? s.routes.erase(r) : std::next(r);
  }
  relays_.erase(it);
  relayCount_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::apply(Command& c) {
  switch (c.op) {
    case Command::AddListener:
      if (watch(c.fd, kKindListener, c.listenerId))
        sockets_[c.listenerId] = LaneSocket{c.fd, {}};
      else
        close(c.fd);
      c.fd = -1;
      return;
    case Command::RemoveListener: {
      auto it = sockets_.find(c.listenerId);
      if (it == sockets_.end()) return;
      epoll_ctl(ep_, EPOLL_CTL_DEL, it->second.fd, nullptr);
      close(it->second.fd);
      sockets_.erase(it);
      return;
    }
    case Command::OpenRelay: {
      auto r = std::make_unique<Relay>();
      r->fd = c.fd;
      r->listenerId = c.listenerId;
      r->client = c.addr;
      r->clientLen = c.addrLen;
      r->usage = std::move(c.usage);
      r->relayed = c.relayed;
      r->relayedLen = c.relayedLen;
      if (c.value > 0) r->bucket.setRate(c.value);
      c.fd = -1;
      if (!watch(r->fd, kKindRelay, c.relayId)) {
        close(r->fd);
        counters_[kSendErrors].add();
        return;
      }
      if (r->relayedLen) {
        byRelayed_[keyOf(r->relayed, true)] = {r.get(), lane_};
        tellLanes(Command::Announce, r->relayed);
      }
      relays_[c.relayId] = std::move(r);
      relayCount_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    case Command::CloseRelay:
      closeRelay(c.relayId);
      return;
    case Command::Announce: {
      // A relay of ours at that port is the live one (the kernel lets only one socket have it).
      Owner& o = byRelayed_.try_emplace(keyOf(c.relayed, true), Owner{nullptr, c.lane}).first->second;
      if (!o.local) o.lane = c.lane;
      return;
    }
    case Command::Withdraw: {
      // Only the lane that announced it withdraws it: the port may already be another lane's.
      auto it = byRelayed_.find(keyOf(c.relayed, true));
      if (it != byRelayed_.end() && !it->second.local && it->second.lane == c.lane) byRelayed_.erase(it);
      return;
    }
    case Command::SetRoute: {
      auto it = sockets_.find(c.listenerId);
      if (it == sockets_.end()) return;
      Key k = keyOf(c.addr, true);
      auto relay = c.relayId == 0 ? relays_.end() : relays_.find(c.relayId);
      if (relay == relays_.end())
        it->second.routes.erase(k);  // unrouted, or the relay closed meanwhile
      else
        it->second.routes[k] = relay->second.get();
      return;
    }
    default:
      break;
  }
  auto it = relays_.find(c.relayId);
  if (it == relays_.end()) return;  // closed meanwhile
  Relay& r = *it->second;
  switch (c.op) {
    case Command::Permit:
      r.permit(keyOf(c.addr, false), c.value);
      break;
    case Command::Revoke:
      r.revoke(keyOf(c.addr, false));
      break;
    case Command::Bind:
      r.bind(c.channel, c.addr, c.addrLen, c.value);
      break;
    case Command::Unbind:
      r.unbind(c.channel);
      break;
    case Command::SetBitrate:
      r.bucket.setRate(c.value);
      break;
    case Command::ChannelData:
      channelDataToPeer(r, c.payload.data(), c.payload.size(), nowMs());
      break;
    case Command::SendToPeer: {
      // A Send indication's data (policy and permission checked in JS).
      double now = nowMs();
      if (!r.bucket.take(c.payload.size(), now)) {
        counters_[kDroppedRateLimited].add();
        break;
      }
      toPeer(r, c.addr, c.addrLen, keyOf(c.addr, true), c.payload.data(), c.payload.size(), now);
      break;
    }
    default:
      break;
  }
}

Out& Worker::push(int fd, const sockaddr_storage& dst, socklen_t len) {
  if (out_.size() == kOutCapacity) flush();
  out_.emplace_back();
  Out& o = out_.back();
  o.fd = fd;
  o.dst = dst;
  o.dstLen = len;
  return o;
}

// Sends everything queued; consecutive datagrams for one socket go out in one sendmmsg.
void Worker::flush() {
  mmsghdr msgs[kOutCapacity];
  size_t i = 0;
  while (i < out_.size()) {
    int fd = out_[i].fd;
    int n = 0;
    while (i + n < out_.size() && out_[i + n].fd == fd) {
      Out& o = out_[i + n];
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
      if (r > 0) {
        done += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      counters_[kSendErrors].add();  // the datagram at `done` failed (EAGAIN, ICMP feedback...): skip it
      done++;
    }
    i += n;
  }
  out_.clear();
}

void Worker::channelDataToPeer(Relay& r, const uint8_t* frame, size_t n, double now) {
  ChannelDataView cd;
  if (!readChannelData(frame, n, cd)) {
    counters_[kDroppedNoChannel].add();
    return;
  }  // truncated or lying length, counted like the JS plane
  const Channel* ch = nullptr;
  Drop why = r.toPeer(cd.channel, cd.length, now, ch);
  if (why != Drop::None) {
    counters_.drop(why);
    return;
  }
  toPeer(r, ch->addr, ch->addrLen, ch->peer, cd.payload, cd.length, now);
}

void Worker::toPeer(Relay& r, const sockaddr_storage& to, socklen_t toLen, const Key& toKey, const uint8_t* data,
                    size_t n, double now) {
  counters_[kClientToPeerPackets].add();
  counters_[kClientToPeerBytes].add(n);
  r.usage->toPeer(n);
  if (r.relayedLen && !byRelayed_.empty()) {
    auto own = byRelayed_.find(toKey);
    if (own != byRelayed_.end()) {
      // The kernel would hand this datagram to that relay socket of ours with r's address as
      // its source; the other allocation judges it exactly as if it had (permission, bitrate),
      // here or on the lane that owns it (which counts it once it finds the relay still there).
      if (Relay* local = own->second.local)
        relayInProcess(*local, data, n, r.relayed, now);
      else
        handOver(own->second.lane, toKey, r.relayed, data, n);
      return;
    }
  }
  Out& o = push(r.fd, to, toLen);
  o.iov[0] = {const_cast<uint8_t*>(data), n};
  o.iovCount = 1;
}

void Worker::relayInProcess(Relay& to, const uint8_t* data, size_t n, const sockaddr_storage& from, double now) {
  counters_[kDeliveredInProcess].add();
  fromPeer(to, clientFdOf(to), data, n, from, now);
}

int Worker::clientFdOf(const Relay& r) const {
  auto sock = sockets_.find(r.listenerId);
  return sock == sockets_.end() ? -1 : sock->second.fd;
}

void Worker::fromPeer(Relay& r, int clientFd, const uint8_t* data, size_t n, const sockaddr_storage& from, double now) {
  const Channel* ch = nullptr;
  Drop why = r.fromPeer(from, n, now, ch);
  if (why != Drop::None) {
    counters_.drop(why);
    return;
  }
  if (clientFd < 0) {
    counters_[kDroppedBackpressure].add();
    return;
  }  // listener closed
  if (!ch && !fitsDataIndication(n)) {
    counters_[kSendErrors].add();
    return;
  }
  Out& o = push(clientFd, r.client, r.clientLen);
  if (ch) {
    writeChannelDataHeader(o.header, ch->number, n);
    o.iov[0] = {o.header, kChannelDataHeader};
    o.iov[1] = {const_cast<uint8_t*>(data), n};
    o.iovCount = 2;  // UDP ChannelData needs no padding
  } else {
    put32(tid_ + 8, ++tidCounter_);
    size_t h = writeDataIndicationHeader(o.header, from, n, tid_);
    size_t pad = (4 - (n & 3)) & 3;
    o.iov[0] = {o.header, h};
    o.iov[1] = {const_cast<uint8_t*>(data), n};
    o.iov[2] = {const_cast<uint8_t*>(kZeros), pad};
    o.iovCount = pad ? 3 : 2;
  }
  counters_[kPeerToClientPackets].add();
  counters_[kPeerToClientBytes].add(n);
  r.usage->toClient(n);
}

void Worker::fromClient(LaneSocket& sock, int listenerId, uint8_t* data, size_t n, const sockaddr_storage& from,
                        double now) {
  switch (classify(data, n)) {
    case ClientFrame::ChannelData: {
      auto route = sock.routes.find(keyOf(from, true));
      if (route == sock.routes.end()) {
        counters_[kDroppedNoChannel].add();
        return;
      }  // no allocation on this 5-tuple
      channelDataToPeer(*route->second, data, n, now);
      return;
    }
    case ClientFrame::Stun:
      // Not counted for the pause: JS answers each request with its own sendto, so waiting
      // for more would only hold back the next request (call setup) for nothing.
      received_--;
      upcallToJs(listenerId, data, n, from);
      return;
    case ClientFrame::Other:
      return;  // neither STUN nor ChannelData
  }
}

Upcall* Upcall::make(const std::shared_ptr<UpcallBudget>& budget, size_t n) {
  if (!budget->take(charge(n))) return nullptr;  // checked before malloc: a refused datagram costs no allocation
  void* mem = malloc(charge(n));
  if (!mem) {
    budget->give(charge(n));
    return nullptr;
  }
  auto* u = new (mem) Upcall;
  u->budget = budget;
  u->length = n;
  return u;
}

void Upcall::destroy(Upcall* u) {
  u->budget->give(charge(u->length));
  u->~Upcall();
  free(u);
}

void Worker::upcallToJs(int listenerId, const uint8_t* data, size_t n, const sockaddr_storage& from) {
  Upcall* u = Upcall::make(budget_, n);
  if (!u) {
    counters_[kUpcallsDropped].add();  // JS is this far behind (or out of memory): drop, like a full socket buffer
    return;
  }
  u->listenerId = listenerId;
  u->lane = lane_;
  memcpy(u->data, data, n);
  u->port = formatAddress(from, u->address, sizeof u->address);
  if (napi_call_threadsafe_function(upcall_, u, napi_tsfn_nonblocking) != napi_ok) {
    Upcall::destroy(u);  // queue full by count (JS is overloaded) or closing
    counters_[kUpcallsDropped].add();
  }
}

void Worker::run() {
  epoll_event events[kEvents];
  while (!stopping_.load()) {
    int ready = epoll_wait(ep_, events, kEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // A full event array may have left ready sockets out (the listener among them): no pause.
    if (ready == kEvents) backlog_ = true;
    applyCommands();
    for (int e = 0; e < ready && !stopping_.load(std::memory_order_relaxed); e++) {
      uint64_t kind = events[e].data.u64 >> 56;
      int64_t id = static_cast<int64_t>(events[e].data.u64 & ((1ULL << 56) - 1));
      if (kind == kKindWake) {
        uint64_t v;
        if (read(wake_, &v, sizeof v) < 0) { /* already drained */
        }
        continue;
      }
      drain(kind, id);
    }
    takeHandovers();
    flush();  // everything this wakeup relayed, one sendmmsg per run of one destination socket
    used_ = 0;
    taking_.clear();  // the sends that pointed into it are gone
    sendHandovers();
    coalesce();
  }
}

void Worker::noteArrivals(int n, int64_t now) {
  windowArrivals_ += n;
  const int64_t elapsed = now - windowStart_;
  if (elapsed < kRateWindowNanos) return;
  // arrivals / elapsed * pause >= kMinPerPause, without the division.
  fillsPause_ = windowArrivals_ * coalesceMicros_ * 1000LL >= kMinPerPause * elapsed;
  windowStart_ = now;
  windowArrivals_ = 0;
}

void Worker::coalesce() {
  const int received = received_;
  const bool backlog = backlog_;
  received_ = 0;
  backlog_ = false;
  if (coalesceMicros_ == 0) return;
  const int64_t now = monotonicNanos();
  noteArrivals(received, now);
  if (afterPause_) {
    afterPause_ = false;
    if (received >= 2 || backlog) {
      backoff_ = 0;
    } else {
      backoff_ = backoff_ == 0 ? 1 : std::min(backoff_ * 2, kMaxPauseBackoff);
      skipPauses_ = backoff_;
    }
  }
  if (received == 0 || backlog || stopping_.load(std::memory_order_relaxed)) return;
  // Arrivals too sparse to fill a pause: waiting would only add a timer wakeup of its own.
  if (!fillsPause_) return;
  if (skipPauses_ > 0) {
    skipPauses_--;
    return;
  }
  const int64_t end = now + static_cast<int64_t>(coalesceMicros_) * 1000;
  const timespec until{static_cast<time_t>(end / kNanosPerSecond), static_cast<long>(end % kNanosPerSecond)};
  // Absolute deadline: a signal that interrupts the sleep does not lengthen it.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
  counters_[kCoalescePauses].add();
  afterPause_ = true;
}

void Worker::tellLanes(Command::Op op, const sockaddr_storage& relayed) {
  for (Worker* w : lanes_) {
    if (w == this) continue;
    Command c(op);
    c.relayed = relayed;
    c.lane = lane_;
    w->post(std::move(c));
  }
}

void Worker::handOver(int lane, const Key& to, const sockaddr_storage& from, const uint8_t* data, size_t n) {
  Handovers& h = outbound_[lane];
  h.entries.push_back({to, from, static_cast<uint32_t>(h.bytes.size()), static_cast<uint32_t>(n)});
  h.bytes.insert(h.bytes.end(), data, data + n);
  if (h.bytes.size() >= kOutboundBytes) sendHandovers();
}

void Worker::sendHandovers() {
  for (size_t lane = 0; lane < outbound_.size(); lane++) {
    Handovers& h = outbound_[lane];
    if (h.empty()) continue;
    // Lost like datagrams on a full socket buffer: the receiving lane is this far behind.
    counters_[kDroppedHandover].add(lanes_[lane]->receive(h));
    h.clear();
  }
}

size_t Worker::receive(Handovers& batch) {
  size_t refused = 0;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(inboxMu_);
    wake = inbox_.empty();
    if (wake) {
      std::swap(inbox_, batch);  // the common case: nothing waiting, take the whole batch as it is
    } else {
      for (const auto& e : batch.entries) {
        if (inbox_.bytes.size() + e.length > kInboxBytes) {
          refused++;
          continue;
        }
        inbox_.entries.push_back({e.to, e.from, static_cast<uint32_t>(inbox_.bytes.size()), e.length});
        inbox_.bytes.insert(inbox_.bytes.end(), batch.bytes.begin() + e.offset,
                            batch.bytes.begin() + e.offset + e.length);
      }
    }
  }
  inboxPending_.store(true, std::memory_order_release);
  if (wake) wakeUp();  // an inbox that held something already has a wakeup on its way
  return refused;
}

void Worker::takeHandovers() {
  if (!inboxPending_.exchange(false, std::memory_order_acquire)) return;
  applyCommands();  // a permission JavaScript installed before the sender's packet is in force for it
  {
    std::lock_guard<std::mutex> lock(inboxMu_);
    std::swap(inbox_, taking_);  // taking_ is empty: the senders get its capacity back
  }
  double now = nowMs();
  for (const auto& e : taking_.entries) {
    auto it = byRelayed_.find(e.to);
    Relay* local = it == byRelayed_.end() ? nullptr : it->second.local;
    if (!local) continue;  // closed meanwhile: the kernel would have had no socket for it either
    relayInProcess(*local, taking_.bytes.data() + e.offset, e.length, e.from, now);
  }
}

void Worker::drain(uint64_t kind, int64_t id) {
  // The socket's entry; looked up again only after commands applied (they may have closed it).
  LaneSocket* listener = nullptr;
  Relay* relay = nullptr;
  auto find = [&] {
    if (kind == kKindListener) {
      auto it = sockets_.find(static_cast<int>(id));
      listener = it == sockets_.end() ? nullptr : &it->second;
      return listener != nullptr;
    }
    auto it = relays_.find(id);
    relay = it == relays_.end() ? nullptr : it->second.get();
    return relay != nullptr;
  };
  if (!find()) return;
  const int fd = listener ? listener->fd : relay->fd;
  // A listener carries every client of the lane, a relay socket one allocation's peers:
  // the listener reads several batches per wakeup so it keeps pace with the relay sockets.
  for (int round = 0; round < (listener ? kListenerRounds : 1); round++) {
    if (kArenaSlots - used_ < kBatch) {
      flush();  // queued sends point into the slots about to be reused
      used_ = 0;
    }
    mmsghdr* msgs = &msgs_[used_];
    int got = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN, or an ICMP error reported on the socket: nothing to read
    const int first = used_;
    used_ += got;
    received_ += got;
    // The handlers read the address from addrs_ itself; the lengths are ready for the next call.
    for (int i = 0; i < got; i++) msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    // Commands queued while we waited (a permission for this very packet) apply first.
    if (applyCommands() && !find()) return;
    double now = nowMs();
    if (listener) {
      for (int i = 0; i < got; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
        fromClient(*listener, static_cast<int>(id), static_cast<uint8_t*>(iovs_[first + i].iov_base), msgs[i].msg_len,
                   addrs_[first + i], now);
      }
    } else {
      const int clientFd = clientFdOf(*relay);  // looked up once for the batch
      for (int i = 0; i < got; i++) {
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
        fromPeer(*relay, clientFd, static_cast<const uint8_t*>(iovs_[first + i].iov_base), msgs[i].msg_len,
                 addrs_[first + i], now);
      }
    }
    if (got < kBatch) return;  // drained: a short count means the queue is empty
  }
  backlog_ = true;  // the rounds ran out with the socket still full
}

}  // namespace turnrelay
