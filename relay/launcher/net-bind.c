// turnrelay-net-bind: starts the relay's Node runtime with CAP_NET_BIND_SERVICE,
// so a non-root relay on the host network (where the pod cannot set
// net.ipv4.ip_unprivileged_port_start) can listen on 443 or 80.
//
// Kubernetes' `capabilities.add` gives a non-root container the capability in
// its bounding set only: containerd clears the ambient set, so it is gone from
// the permitted set after execve. This file carries the file capability
// cap_net_bind_service=ep (set in the image build), which gives it the
// capability when the container's bounding set allows it (no_new_privs keeps
// what runc already holds in its permitted set). It raises the capability to
// the ambient set and execs the fixed Node binary, which then holds
// NET_BIND_SERVICE and nothing else; Node itself carries no file capability
// (no secure-exec mode, and the image runs unchanged with every capability
// dropped). Arguments are passed through; the program run is never one of them.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef NODE_BINARY
#define NODE_BINARY "/nodejs/bin/node"
#endif

static int fail(const char *what) {
  fprintf(stderr, "turnrelay-net-bind: %s: %s\n", what, strerror(errno));
  return 126;
}

int main(int argc, char **argv) {
  (void)argc;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &header, data) != 0) return fail("capget");
  const unsigned bit = 1u << CAP_NET_BIND_SERVICE;  // capability 10: in the first word
  if (!(data[0].permitted & bit)) {
    errno = EPERM;
    return fail(
        "CAP_NET_BIND_SERVICE is not permitted (the file capability is missing, or the container does not add "
        "NET_BIND_SERVICE)");
  }
  // Ambient needs the capability in the inheritable set; nothing else is kept.
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].effective = data[i].permitted = data[i].inheritable = 0;
  data[0].effective = data[0].permitted = data[0].inheritable = bit;
  if (syscall(SYS_capset, &header, data) != 0) return fail("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0)
    return fail("raising the ambient capability");
  argv[0] = (char *)NODE_BINARY;
  execv(NODE_BINARY, argv);
  return fail("exec " NODE_BINARY);
}
