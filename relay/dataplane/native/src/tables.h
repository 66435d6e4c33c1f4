// Forwarding tables of one allocation (permissions, channels, bitrate budget)
// and the per-thread counters. A Relay belongs to exactly one worker thread
// and is only ever touched by it; JavaScript changes it through commands
// (worker.h), so none of this needs a lock.
#pragma once

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "wire.h"

namespace turnrelay {

inline double nowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);  // same clock as Date.now(), which JS uses for expiries
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

// Byte budget for the optional per-allocation bitrate cap; one second of burst
// (same rule as relay/dataplane/token-bucket.ts).
struct Bucket {
  double bytesPerSecond = 0, tokens = 0, last = 0;
  void setRate(double kbps) {
    bool fresh = bytesPerSecond <= 0;
    bytesPerSecond = kbps > 0 ? kbps * 1000 / 8 : 0;
    if (fresh) {
      tokens = bytesPerSecond;
      last = nowMs();
    } else if (tokens > bytesPerSecond)
      tokens = bytesPerSecond;
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

enum class Drop { None, NoPermission, NoChannel, RateLimited };

// One writer (the worker thread), read by JS at scrape time: relaxed atomics
// compile to plain loads and stores on x86 and keep the reads well-defined.
struct Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// What one allocation relayed, for its usage record. Shared between the worker
// (writer) and the JS thread (reader), so JS reads it without asking the worker.
struct Usage {
  Counter clientToPeerPackets, clientToPeerBytes, peerToClientPackets, peerToClientBytes;
  void toPeer(size_t bytes) {
    clientToPeerPackets.add();
    clientToPeerBytes.add(bytes);
  }
  void toClient(size_t bytes) {
    peerToClientPackets.add();
    peerToClientBytes.add(bytes);
  }
};

struct Relay {
  int fd = -1;
  int listenerId = 0;
  sockaddr_storage client{};
  socklen_t clientLen = 0;
  // The relayed address clients were told, when it is this host's own (relayedLen 0: not
  // known, or an external address): the source its in-process deliveries carry.
  sockaddr_storage relayed{};
  socklen_t relayedLen = 0;
  std::unordered_map<Key, double, KeyHash> permissions;
  std::unordered_map<uint16_t, Channel> channels;
  // Peer address+port -> its channel in `channels` (unordered_map elements never move).
  std::unordered_map<Key, const Channel*, KeyHash> channelByPeer;
  Bucket bucket;
  std::shared_ptr<Usage> usage;

  void permit(const Key& ip, double expiresAt) { permissions[ip] = expiresAt; }

  // Revoking a permission also unbinds every channel to that IP.
  void revoke(const Key& ip) {
    permissions.erase(ip);
    std::vector<uint16_t> gone;
    for (auto& [num, ch] : channels)
      if (ch.permission == ip) gone.push_back(num);
    for (uint16_t num : gone) unbind(num);
  }

  void bind(uint16_t number, const sockaddr_storage& peer, socklen_t len, double expiresAt) {
    Channel ch{number, keyOf(peer, false), keyOf(peer, true), peer, len, expiresAt};
    unbind(number);  // a rebind replaces the old peer
    auto& stored = channels[number] = ch;
    channelByPeer[ch.peer] = &stored;
  }

  void unbind(uint16_t number) {
    auto it = channels.find(number);
    if (it == channels.end()) return;
    auto byPeer = channelByPeer.find(it->second.peer);
    if (byPeer != channelByPeer.end() && byPeer->second == &it->second) channelByPeer.erase(byPeer);
    channels.erase(it);
  }

  bool permitted(const Key& ip, double now) const {
    auto perm = permissions.find(ip);
    return perm != permissions.end() && perm->second >= now;
  }

  // Client -> peer on `channel`: the channel to use, or why not.
  Drop toPeer(uint16_t channel, size_t length, double now, const Channel*& out) {
    auto it = channels.find(channel);
    if (it == channels.end() || it->second.expiresAt < now) return Drop::NoChannel;
    if (!permitted(it->second.permission, now)) return Drop::NoPermission;
    if (!bucket.take(length, now)) return Drop::RateLimited;
    out = &it->second;
    return Drop::None;
  }

  // Peer -> client: whether to forward, and on which channel (nullptr: Data indication).
  Drop fromPeer(const sockaddr_storage& from, size_t length, double now, const Channel*& channel) {
    if (!permitted(keyOf(from, false), now)) return Drop::NoPermission;
    if (!bucket.take(length, now)) return Drop::RateLimited;
    auto byPeer = channelByPeer.find(keyOf(from, true));
    channel = byPeer != channelByPeer.end() && byPeer->second->expiresAt >= now ? byPeer->second : nullptr;
    return Drop::None;
  }
};

// Order matters: JS reads them by index (relay/dataplane/native/native-addon.ts).
enum CounterId {
  kClientToPeerPackets,
  kClientToPeerBytes,
  kPeerToClientPackets,
  kPeerToClientBytes,
  kDroppedNoPermission,
  kDroppedNoChannel,
  kDroppedRateLimited,
  kDroppedBackpressure,
  kSendErrors,
  kUpcallsDropped,
  kDeliveredInProcess,
  kDroppedHandover,
  kCoalescePauses,
  kCounterCount
};

struct Counters {
  Counter c[kCounterCount];
  Counter& operator[](CounterId id) { return c[id]; }
  uint64_t get(int id) const { return c[id].get(); }

  void drop(Drop why) {
    if (why == Drop::NoPermission)
      c[kDroppedNoPermission].add();
    else if (why == Drop::NoChannel)
      c[kDroppedNoChannel].add();
    else if (why == Drop::RateLimited)
      c[kDroppedRateLimited].add();
  }
};

}  // namespace turnrelay
