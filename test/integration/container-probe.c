/* A static probe for container security tests: prints the errno a syscall gets inside the container. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(const char *what, long r) {
  printf("%s=%s\n", what, r < 0 ? strerror(errno) : "ok");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "socket") && argc > 2) return report("socket", syscall(SYS_socket, strtol(argv[2], 0, 0), 5 /* SOCK_SEQPACKET */, 0));
  if (!strcmp(argv[1], "keyctl")) return report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  if (!strcmp(argv[1], "unshare-user")) return report("unshare", unshare(CLONE_NEWUSER));
  if (!strcmp(argv[1], "clone-newns")) return report("clone", syscall(SYS_unshare, CLONE_NEWNS));
  return 2;
}
