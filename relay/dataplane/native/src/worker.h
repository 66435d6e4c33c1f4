// Event loop: one worker thread with its own epoll set, its own SO_REUSEPORT
// socket of every client listener and the relay sockets of the allocations
// whose clients arrived on that socket. It receives with recvmmsg into an
// arena of slots that lives for one epoll wakeup, and sends what the whole
// wakeup produced at its end with sendmmsg, one call per destination socket
// run: peer data that arrived on many relay sockets leaves through the
// client listener in one call. No lock is held around either.
//
// JavaScript never touches a worker's tables: it queues commands (install a
// permission, open a relay...). The loop applies queued commands before it
// processes each received batch, so a permission JavaScript installed before
// a peer's packet arrived is in force for that packet. Only commands with an
// effect of their own (watch or close a socket, send data) wake the loop
// through an eventfd; the rest wait for the next datagram or wakeup.
//
// A datagram one allocation sends to another allocation's own relayed address
// skips the kernel: to a relay of this worker it goes straight to fromPeer; to
// another worker's it is copied into that worker's inbox (Handovers), which
// the worker relays on its next wakeup as if its socket had received it.
//
// Coalescing: at light and medium load each datagram would otherwise cost a
// wakeup of its own (epoll_wait, one recvmmsg and one sendmmsg per datagram).
// After a wakeup that relayed something and left no socket with more to
// read, the worker sleeps coalesceMicros before it waits again, so the next
// wakeup finds several datagrams per socket and the system calls are shared
// by them. A backlog (a full event array, a listener still full after its
// rounds) skips the pause: under load the loop never sleeps. Arrivals
// sparser than two per pause (counted over 20 ms windows) skip it too: at
// 1,000 datagrams/s a 1 ms pause gathers one at best, and its own timer
// wakeup costs as much as the wakeup it would save. A pause pays for itself
// only when the wakeup after it finds two datagrams or more; one that does
// not (bursts further apart than the pause, as from a paced client that
// sends every few ms) only adds a timer wakeup, so the worker then leaves out
// the next 1, 2, 4 ... kMaxPauseBackoff pauses, and goes back to pausing
// after every wakeup once a pause pays again. The cost is at most
// coalesceMicros of added delay per relayed hop; 0 turns it off.
#pragma once

#include <node_api.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tables.h"
#include "wire.h"

namespace turnrelay {

constexpr int kBatch = 32;               // datagrams per recvmmsg
constexpr int kArenaSlots = 8 * kBatch;  // receive slots per wakeup (the sends of a wakeup point into them)
constexpr size_t kMaxDatagram = 65536;   // largest UDP payload we accept
constexpr int kEvents = 64;              // epoll events per wakeup
constexpr int kMaxCoalesceMicros = 10000;
constexpr int kMaxPauseBackoff = 64;            // most pauses left out after ones that did not pay
constexpr int64_t kRateWindowNanos = 20000000;  // arrivals are counted over windows this long
constexpr int64_t kMinPerPause = 2;             // datagrams the arrival rate must predict per pause

struct Command {
  enum Op {
    AddListener,
    RemoveListener,
    OpenRelay,
    CloseRelay,
    SetRoute,
    Permit,
    Revoke,
    Bind,
    Unbind,
    SetBitrate,
    ChannelData,
    SendToPeer,
    // Between workers: another lane opened (Announce) or closed (Withdraw) a relay at `relayed`.
    Announce,
    Withdraw
  };
  explicit Command(Op o) : op(o) {}
  Op op;
  int64_t relayId = 0;
  int listenerId = 0;
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  sockaddr_storage relayed{};  // OpenRelay: the allocation's own relayed address (relayedLen 0: none)
  socklen_t relayedLen = 0;
  double value = 0;  // expiry (ms) or bitrate (kbps)
  uint16_t channel = 0;
  int lane = 0;  // Announce, Withdraw: the lane that owns the relay
  std::vector<uint8_t> payload;
  std::shared_ptr<Usage> usage;  // OpenRelay: the cell JS reads the allocation's usage from
};

// Bytes that STUN datagrams queued for the JS thread hold, shared by all workers of a plane.
// The Node-API queue bounds only their number; this bounds their memory, which one client
// sending 64 KiB datagrams would otherwise make ~4096 x 64 KiB. Only STUN upcalls touch it.
class UpcallBudget {
 public:
  explicit UpcallBudget(size_t limit) : limit_(limit) {}
  // Reserves n bytes; false (nothing reserved) when that would pass the limit. A failing
  // reservation may make a concurrent one fail too; none lets the total pass the limit.
  bool take(size_t n) {
    if (used_.fetch_add(n, std::memory_order_relaxed) + n <= limit_) return true;
    used_.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  void give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

// A STUN datagram on its way to the JS thread. It returns its bytes to the budget when it is
// destroyed, wherever that happens: delivered, refused by a full queue, or flushed at teardown
// (the Node-API queue can outlive the plane, so the budget is shared with every upcall).
struct Upcall {
  std::shared_ptr<UpcallBudget> budget;
  int listenerId;
  int lane;
  char address[INET6_ADDRSTRLEN];
  int port;
  size_t length;
  uint8_t data[1];

  // What an upcall with n datagram bytes holds (header and datagram), charged to the budget.
  static size_t charge(size_t n) { return sizeof(Upcall) + n; }

  // An upcall with room for n datagram bytes; nullptr when the budget or malloc refuses.
  static Upcall* make(const std::shared_ptr<UpcallBudget>& budget, size_t n);
  static void destroy(Upcall* u);
};

// One datagram waiting in a sendmmsg batch.
struct Out {
  int fd;
  uint8_t header[kMaxIndicationHeader];
  iovec iov[3];
  int iovCount;
  sockaddr_storage dst;
  socklen_t dstLen;
};

// Datagrams one allocation sent to another's relayed address on another lane, copied out of
// the sender's arena: what the kernel would otherwise carry from one relay socket to the other.
struct Handovers {
  struct Entry {
    Key to;                 // the receiving relay's relayed address+port
    sockaddr_storage from;  // the sending relay's relayed address, the source the receiver judges
    uint32_t offset, length;
  };
  std::vector<Entry> entries;
  std::vector<uint8_t> bytes;
  bool empty() const { return entries.empty(); }
  void clear() {
    entries.clear();
    bytes.clear();
  }
};

class Worker {
 public:
  // coalesceMicros: the pause after a wakeup that relayed without a backlog (0: none).
  Worker(int lane, napi_threadsafe_function upcall, std::shared_ptr<UpcallBudget> budget, int coalesceMicros);
  ~Worker();
  bool ok() const { return ep_ >= 0 && wake_ >= 0; }
  // The plane's workers, this one included; set before start() and fixed afterwards.
  void setLanes(std::vector<Worker*> lanes) { lanes_ = std::move(lanes); }
  void start();
  // Stops and joins the thread, then closes every socket the worker owns.
  void stop();

  // From the JS thread: queue a command and wake the loop.
  void post(Command&& c);

  const Counters& counters() const { return counters_; }
  int relayCount() const { return relayCount_.load(std::memory_order_relaxed); }
  int lane() const { return lane_; }

 private:
  struct LaneSocket {
    int fd;
    std::unordered_map<Key, Relay*, KeyHash> routes;  // client address+port -> its allocation (owned by relays_)
  };

  void run();
  // Reads one ready socket into the arena (a listener several batches) and handles what arrived.
  void drain(uint64_t kind, int64_t id);
  // Applies queued commands; true when there were any (tables may have changed).
  bool applyCommands();
  void apply(Command& c);
  void fromClient(LaneSocket& sock, int listenerId, uint8_t* data, size_t n, const sockaddr_storage& from, double now);
  void channelDataToPeer(Relay& r, const uint8_t* frame, size_t n, double now);
  // Client -> peer datagram that passed r's checks; counted and queued for sending.
  // toKey: keyOf(to, true), which a channel already holds.
  void toPeer(Relay& r, const sockaddr_storage& to, socklen_t toLen, const Key& toKey, const uint8_t* data, size_t n,
              double now);
  // clientFd: the listener socket the client's data leaves through, -1 once it is closed.
  void fromPeer(Relay& r, int clientFd, const uint8_t* data, size_t n, const sockaddr_storage& from, double now);
  // The listener socket r's client is reached through, -1 once it is closed.
  int clientFdOf(const Relay& r) const;
  // A datagram another allocation of this host sent to `to`, which lives on this lane: counted
  // as relayed in process, then judged by `to` as if its socket had received it from `from`.
  void relayInProcess(Relay& to, const uint8_t* data, size_t n, const sockaddr_storage& from, double now);
  void upcallToJs(int listenerId, const uint8_t* data, size_t n, const sockaddr_storage& from);
  Out& push(int fd, const sockaddr_storage& dst, socklen_t len);
  void flush();
  // Queues a datagram for the relay at `to` on another lane (lane != lane_).
  void handOver(int lane, const Key& to, const sockaddr_storage& from, const uint8_t* data, size_t n);
  // Moves each lane's queued handovers into that lane's inbox, waking it when the inbox was empty.
  void sendHandovers();
  // From another worker: appends a batch to the inbox; returns how many entries did not fit.
  size_t receive(Handovers& batch);
  // Relays what other lanes handed over to this lane's relays.
  void takeHandovers();
  // Tells the other lanes that this lane opened (Announce) or closed (Withdraw) the relay at `relayed`.
  void tellLanes(Command::Op op, const sockaddr_storage& relayed);
  // Wakes the loop from another thread (it may be in epoll_wait).
  void wakeUp();
  bool watch(int fd, uint64_t kind, int64_t id);
  void closeRelay(int64_t id);

  // Sleeps coalesceMicros_ when this wakeup received datagrams (STUN requests aside) and left no backlog, unless
  // the recent arrival rate predicts fewer than kMinPerPause per pause or pauses are backing off; judges
  // whether the previous pause paid.
  void coalesce();
  // Adds a wakeup's datagrams to the arrival window; when the window is over (at `now`, CLOCK_MONOTONIC ns),
  // updates fillsPause_.
  void noteArrivals(int n, int64_t now);

  const int lane_;
  const int coalesceMicros_;
  int received_ = 0;            // datagrams received in this wakeup, STUN requests left out
  bool backlog_ = false;        // this wakeup left a socket with more to read
  bool afterPause_ = false;     // this wakeup followed a pause
  int backoff_ = 0;             // pauses left out after the last one that did not pay (0: none)
  int skipPauses_ = 0;          // of those, still to leave out
  int64_t windowStart_;         // CLOCK_MONOTONIC ns when the current arrival window began
  int64_t windowArrivals_ = 0;  // datagrams received in it (STUN requests left out)
  bool fillsPause_ = false;     // the last window's arrival rate predicts kMinPerPause or more per pause
  napi_threadsafe_function upcall_;
  const std::shared_ptr<UpcallBudget> budget_;
  int ep_ = -1, wake_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Owned by the worker thread (after start()).
  std::unordered_map<int, LaneSocket> sockets_;
  std::unordered_map<int64_t, std::unique_ptr<Relay>> relays_;
  // Own relayed address+port -> the relay there, for relays whose address is this host's: a
  // datagram one allocation sends to another's goes to it without the kernel's UDP stack
  // (both call parties on this relay and host). `local` for this worker's relays; other
  // lanes' are kept by their Announce/Withdraw commands, a copy per worker, so the packet
  // path never reads a shared table and finds either kind with one lookup.
  struct Owner {
    Relay* local;  // nullptr: the relay lives on `lane`
    int lane;
  };
  std::unordered_map<Key, Owner, KeyHash> byRelayed_;
  std::vector<Worker*> lanes_;
  std::vector<Handovers> outbound_;  // per lane: handed over during this wakeup, not yet sent
  Handovers taking_;                 // the inbox batch being relayed
  std::vector<Out> out_;
  // The receive arena: slots [0, used_) hold datagrams that queued sends in out_ may point into.
  // Not value-initialised (a vector would zero it): pages no datagram touched stay unbacked.
  std::unique_ptr<uint8_t[]> storage_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<sockaddr_storage> addrs_;
  int used_ = 0;
  std::vector<Command> applying_;
  uint8_t tid_[12];
  uint32_t tidCounter_ = 0;
  Counters counters_;
  std::atomic<int> relayCount_{0};

  // Shared with the JS thread; held only to move commands, never across a system call.
  std::mutex queueMu_;
  std::vector<Command> queue_;
  std::atomic<bool> pending_{false};

  // Handovers from other lanes; held only to append or take a batch.
  std::mutex inboxMu_;
  Handovers inbox_;
  std::atomic<bool> inboxPending_{false};
};

}  // namespace turnrelay
