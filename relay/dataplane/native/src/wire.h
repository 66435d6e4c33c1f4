// Wire format: STUN/TURN bytes and socket addresses. Every byte read here
// comes from the network, so every read is bounds-checked against the
// datagram length by the caller's `n` before it happens.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace turnrelay {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint16_t kDataIndication = 0x0017;  // method Data (0x007), class indication
constexpr uint16_t kAttrXorPeerAddress = 0x0012;
constexpr uint16_t kAttrData = 0x0013;
constexpr size_t kChannelDataHeader = 4;
// Largest Data indication header: STUN header + XOR-PEER-ADDRESS (IPv6) + DATA attribute header.
constexpr size_t kMaxIndicationHeader = 20 + 4 + 20 + 4;

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// What the first byte of a client datagram says it is (RFC 8656 section 12).
enum class ClientFrame { Stun, ChannelData, Other };
inline ClientFrame classify(const uint8_t* data, size_t n) {
  if (n == 0) return ClientFrame::Other;
  uint8_t top = data[0] & 0xc0;
  return top == 0x40 ? ClientFrame::ChannelData : top == 0 ? ClientFrame::Stun : ClientFrame::Other;
}

// A ChannelData frame whose header fits and whose length field does not lie.
struct ChannelDataView {
  uint16_t channel;
  const uint8_t* payload;
  size_t length;
};
inline bool readChannelData(const uint8_t* frame, size_t n, ChannelDataView& out) {
  if (n < kChannelDataHeader) return false;
  size_t length = get16(frame + 2);
  if (kChannelDataHeader + length > n) return false;  // truncated: the header claims more than arrived
  out = {get16(frame), frame + kChannelDataHeader, length};
  return true;
}

// IP (+ port) as a fixed-size map key; port 0 for permission keys.
struct Key {
  uint8_t ip[16];
  uint16_t port;
  uint8_t family;
  bool operator==(const Key& o) const { return family == o.family && port == o.port && memcmp(ip, o.ip, 16) == 0; }
};
struct KeyHash {
  // Word-wise multiply-xorshift over the 16 address bytes, port and family (keyOf zeroes the
  // unused bytes of an IPv4 key): a few multiplies instead of one per byte.
  size_t operator()(const Key& k) const {
    uint64_t a, b;
    memcpy(&a, k.ip, 8);
    memcpy(&b, k.ip + 8, 8);
    uint64_t h = (a ^ (static_cast<uint64_t>(k.port) << 48 | k.family)) * 0x9E3779B97F4A7C15ULL;
    h = (h ^ (h >> 29) ^ b) * 0xBF58476D1CE4E5B9ULL;
    return static_cast<size_t>(h ^ (h >> 32));
  }
};

inline Key keyOf(const sockaddr_storage& ss, bool withPort) {
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

inline bool parseAddress(const char* ip, int port, sockaddr_storage& ss, socklen_t& len) {
  memset(&ss, 0, sizeof ss);
  if (port < 0 || port > 65535) return false;
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

// Text form of an address for the JS upcall.
inline int formatAddress(const sockaddr_storage& ss, char* buf, size_t size) {
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, size);
    return ntohs(a->sin_port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, buf, size);
  return ntohs(a->sin6_port);
}

inline void writeChannelDataHeader(uint8_t* h, uint16_t channel, size_t length) {
  put16(h, channel);
  put16(h + 2, static_cast<uint16_t>(length));
}

// STUN header + XOR-PEER-ADDRESS + DATA attribute header for a Data indication
// carrying `length` bytes from `from`; returns the header size. `tid` is the
// 12-byte transaction id.
inline size_t writeDataIndicationHeader(uint8_t* h, const sockaddr_storage& from, size_t length, const uint8_t* tid) {
  bool v4 = from.ss_family == AF_INET;
  size_t addrLen = v4 ? 8 : 20;
  size_t size = 20 + 4 + addrLen + 4;
  put16(h, kDataIndication);
  put16(h + 2, static_cast<uint16_t>(size - 20 + ((length + 3) & ~size_t{3})));
  put32(h + 4, kMagicCookie);
  memcpy(h + 8, tid, 12);
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

// A Data indication's length field is 16 bits: the payload must leave room for the header.
inline bool fitsDataIndication(size_t n) { return n <= 65535 - kMaxIndicationHeader; }

}  // namespace turnrelay
