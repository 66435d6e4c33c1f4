// Batched TURN ChannelData load generator (sendmmsg/recvmmsg), for
// `npm run bench`. The allocations are made beforehand (bench/udp-flood.ts,
// in Node); this program then takes over their client ports: it binds the
// same local ports, sends ChannelData at a fixed offered rate spread over
// all of them, and counts what comes back. Each sender's channel leads to
// another allocation of the same run (client-to-client), or, with echo=PORT,
// to a plain UDP peer this program runs on server-ip:PORT that sends every
// datagram back to where it came from (a relayed address); either way every
// delivered message was relayed twice by the server.
//
//   loadgen <server-ip> <server-port> <local-ip> <rate msgs/s> <seconds> <size> [echo=PORT] <port:channel>...
// Prints one JSON line: {"sent":N,"received":M,"stale":K,"seconds":S,
// "generatorDrops":D,"sendFailures":F,"cpuSeconds":C}. Every payload starts
// with a nonce of this run, and only ChannelData carrying it counts as
// received: datagrams of an earlier run that the server still had queued when
// this one bound the same ports are counted as stale instead. D is what the
// kernel dropped at this program's own receive buffers (its client sockets
// and the echo peer's) and F the datagrams its sends did not take: losses of
// the load generator, not of the server. C is this program's CPU time over
// the sending window, so C / S near 1 means the generator ran out of its CPU.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

constexpr int kBatch = 64;

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Sender {
  int fd;
  uint16_t channel;
};

// kBatch receive slots of 2 KiB, each with room for its source address.
struct RecvBatch {
  std::vector<uint8_t> storage = std::vector<uint8_t>(kBatch * 2048);
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  sockaddr_in from[kBatch];

  // One recvmmsg into fresh slots; the count read (<= 0: nothing).
  int recv(int fd) {
    for (int i = 0; i < kBatch; i++) {
      iovs[i] = {data(i), 2048};
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    return recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
  }
  uint8_t* data(int i) { return storage.data() + i * 2048; }
};

// A non-blocking UDP socket with 4 MiB buffers bound to ip:port (-1 after printing why not).
int boundSocket(in_addr ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_addr = ip;
  me.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) {
    perror("bind");
    close(fd);
    return -1;
  }
  return fd;
}

// Datagrams the kernel dropped at fd's receive buffer since it was opened (0 where unknown).
uint64_t receiveDrops(int fd) {
  uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof info;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 || len <= SK_MEMINFO_DROPS * sizeof info[0]) return 0;
  return info[SK_MEMINFO_DROPS];
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The plain peer: sends each datagram back to its source, a batch at a time, until `done`.
void echo(int fd, const std::atomic<bool>& done, int waitMs, std::atomic<uint64_t>& sendFailures) {
  RecvBatch batch;
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  while (!done.load()) {
    if (epoll_wait(ep, &ev, 1, waitMs) <= 0) continue;
    for (;;) {
      int got = batch.recv(fd);
      if (got <= 0) break;
      // Back out as received: each message's own length, to its own source.
      for (int i = 0; i < got; i++) batch.iovs[i].iov_len = batch.msgs[i].msg_len;
      for (int off = 0; off < got;) {
        int r = sendmmsg(fd, batch.msgs + off, got - off, 0);
        if (r <= 0) sendFailures.fetch_add(1, std::memory_order_relaxed);
        off += r > 0 ? r : 1;  // a failed datagram is lost, as on a network
      }
    }
  }
  close(ep);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: loadgen server-ip server-port local-ip rate seconds size port:channel...\n");
    return 2;
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "bad server ip\n");
    return 2;
  }
  in_addr local{};
  if (inet_pton(AF_INET, argv[3], &local) != 1) {
    fprintf(stderr, "bad local ip\n");
    return 2;
  }
  double rate = atof(argv[4]), seconds = atof(argv[5]);
  size_t size = static_cast<size_t>(atoi(argv[6]));
  std::vector<Sender> senders;
  int ep = epoll_create1(0);
  int echoFd = -1, firstSender = 7;
  // The receiving threads' wait: 50 ms, or 0 (poll) so that they never sleep.
  int waitMs = 50;
  for (; firstSender < argc && strchr(argv[firstSender], ':') == nullptr; firstSender++) {
    if (strcmp(argv[firstSender], "poll") == 0) {
      waitMs = 0;
    } else if (strncmp(argv[firstSender], "echo=", 5) == 0) {
      echoFd = boundSocket(server.sin_addr, atoi(argv[firstSender] + 5));
      if (echoFd < 0) return 1;
    } else {
      fprintf(stderr, "bad option %s\n", argv[firstSender]);
      return 2;
    }
  }
  for (int i = firstSender; i < argc; i++) {
    int port = 0, channel = 0;
    if (sscanf(argv[i], "%d:%d", &port, &channel) != 2) {
      fprintf(stderr, "bad port:channel %s\n", argv[i]);
      return 2;
    }
    int fd = boundSocket(local, port);
    if (fd < 0) return 1;
    if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      perror("connect");
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(senders.size());
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    senders.push_back({fd, static_cast<uint16_t>(channel)});
  }

  std::atomic<bool> done{false};
  std::atomic<uint64_t> received{0}, stale{0}, sendFailures{0};
  uint8_t nonce[4];
  {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t v = static_cast<uint32_t>(ts.tv_nsec) ^ static_cast<uint32_t>(getpid()) << 16;
    memcpy(nonce, &v, 4);
  }
  if (size < sizeof nonce) size = sizeof nonce;
  std::thread peer;
  if (echoFd >= 0) peer = std::thread([&] { echo(echoFd, done, waitMs, sendFailures); });
  std::thread receiver([&] {
    RecvBatch batch;
    epoll_event events[64];
    while (!done.load()) {
      int n = epoll_wait(ep, events, 64, waitMs);
      for (int e = 0; e < n; e++) {
        int fd = senders[events[e].data.u32].fd;
        for (;;) {
          int got = batch.recv(fd);
          if (got <= 0) break;
          uint64_t mine = 0;
          for (int i = 0; i < got; i++)  // ChannelData header, then the nonce
            if (batch.msgs[i].msg_len >= 8 && memcmp(batch.data(i) + 4, nonce, 4) == 0) mine++;
          received.fetch_add(mine, std::memory_order_relaxed);
          stale.fetch_add(static_cast<uint64_t>(got) - mine, std::memory_order_relaxed);
        }
      }
    }
  });

  // One ChannelData frame per sender (its channel), sent in batches every millisecond.
  std::vector<std::vector<uint8_t>> frames(senders.size());
  for (size_t i = 0; i < senders.size(); i++) {
    frames[i].assign(4 + size, 0x5a);
    frames[i][0] = senders[i].channel >> 8;
    frames[i][1] = senders[i].channel & 0xff;
    frames[i][2] = static_cast<uint8_t>(size >> 8);
    frames[i][3] = static_cast<uint8_t>(size & 0xff);
    memcpy(frames[i].data() + 4, nonce, 4);
  }
  uint64_t sent = 0;
  double start = now(), end = start + seconds;
  size_t next = 0;
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  double sentFor = 0;
  const double cpuAtStart = cpuSeconds();
  while (now() < end) {
    double elapsed = now() - start;
    sentFor = elapsed;  // the window `sent` covers (a late wakeup after the last batch is not part of it)
    uint64_t due = static_cast<uint64_t>(elapsed * rate);
    while (sent < due) {
      // A batch for the next sender: up to kBatch messages, fewer when only a few are due.
      Sender& s = senders[next];
      int n = static_cast<int>(std::min<uint64_t>(
          due - sent, std::max<uint64_t>(1, std::min<uint64_t>(kBatch, (due - sent) / senders.size() + 1))));
      for (int i = 0; i < n; i++) {
        iovs[i] = {frames[next].data(), frames[next].size()};
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int r = sendmmsg(s.fd, msgs, n, 0);
      // A datagram the send did not take counts as sent (the offered rate is what we tried) and as a send failure.
      sent += static_cast<uint64_t>(n);
      sendFailures.fetch_add(static_cast<uint64_t>(r > 0 ? n - r : n), std::memory_order_relaxed);
      next = (next + 1) % senders.size();
    }
    timespec pause{0, 200000};  // 0.2 ms
    nanosleep(&pause, nullptr);
  }
  // Read once, here: the last pause (0.2 ms, asleep) is all it adds to the window.
  const double cpuForWindow = cpuSeconds() - cpuAtStart;
  timespec drain{0, 500000000};  // stragglers
  nanosleep(&drain, nullptr);
  done.store(true);
  receiver.join();
  if (peer.joinable()) peer.join();
  uint64_t drops = echoFd >= 0 ? receiveDrops(echoFd) : 0;
  for (const Sender& s : senders) drops += receiveDrops(s.fd);
  printf(
      "{\"sent\":%llu,\"received\":%llu,\"stale\":%llu,\"seconds\":%.3f,\"generatorDrops\":%llu,\"sendFailures\":%llu,"
      "\"cpuSeconds\":%.3f}\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received.load()),
      static_cast<unsigned long long>(stale.load()), sentFor, static_cast<unsigned long long>(drops),
      static_cast<unsigned long long>(sendFailures.load()), cpuForWindow);
  return 0;
}
