/**
 * The seccomp profile every container runs under: the same shape as Docker's default profile (an allow-list
 * with EPERM for everything else, no namespace or mount syscalls without CAP_SYS_ADMIN, which containers never
 * have), written here as data. Deliberate differences from Docker, each stricter:
 * - only the native architecture is listed, so 32-bit and x32 syscall entry points are refused outright;
 * - io_uring is not allowed (Docker dropped it too, in 25.0), nor are the CAP_SYS_PTRACE-only kcmp/pidfd_getfd;
 * - `socket` refuses AF_ALG and AF_VSOCK with rules that also hold when a caller sets the upper 32 bits of
 *   the family argument (the kernel truncates it to an int; a plain `!= 40` rule would let 0x1_00000028 in).
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;
const AF_ALG = 38;
const AF_VSOCK = 40;
/** One past the highest address family Linux knows (AF_MAX); higher values fail in the kernel anyway. */
const AF_MAX = 46;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: creating namespaces needs CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Syscalls allowed without conditions: Docker's default list for x86_64 minus the exceptions above. */
const ALLOWED = `
accept accept4 access adjtimex alarm arch_prctl bind brk cachestat capget capset chdir chmod chown chroot
clock_adjtime clock_getres clock_gettime clock_nanosleep close close_range connect copy_file_range creat
dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd eventfd2
execve execveat exit exit_group faccessat faccessat2 fadvise64 fallocate fanotify_mark fchdir fchmod
fchmodat fchmodat2 fchown fchownat fcntl fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr
fstat fstatfs fsync ftruncate futex futex_requeue futex_wait futex_waitv futex_wake futimesat getcpu getcwd
getdents getdents64 getegid geteuid getgid getgroups getitimer getpeername getpgid getpgrp getpid getppid
getpriority getrandom getresgid getresuid getrlimit get_robust_list getrusage getsid getsockname getsockopt
get_thread_area gettid gettimeofday getuid getxattr inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents ioprio_get ioprio_set io_setup
io_submit kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lgetxattr link linkat
listen listxattr llistxattr lremovexattr lseek lsetxattr lstat madvise map_shadow_stack membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap modify_ldt mprotect
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend mq_unlink mremap msgctl msgget msgrcv msgsnd
msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll prctl pread64 preadv preadv2
prlimit64 process_mrelease process_vm_readv process_vm_writev pselect6 ptrace pwrite64 pwritev pwritev2
read readahead readlink readlinkat readv recvfrom recvmmsg recvmsg remap_file_pages removexattr rename
renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
sendfile sendmmsg sendmsg sendto setfsgid setfsuid setgid setgroups setitimer setpgid setpriority setregid
setresgid setresuid setreuid setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address
setuid setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 socketpair splice stat
statfs statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
timer_getoverrun timer_gettime timer_settime timerfd_create timerfd_gettime timerfd_settime times tkill
truncate umask uname unlink unlinkat utime utimensat utimes vfork vmsplice wait4 waitid write writev
`
  .trim()
  .split(/\s+/);

/** personality(2) values Docker allows: the default, UNAME26, ADDR_NO_RANDOMIZE combinations, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

function eq(index: number, value: number): SeccompArg {
  return { index, value, op: 'SCMP_CMP_EQ' };
}

/**
 * socket(2) rules: each compares the full 64-bit register, so any value with upper bits set falls outside
 * every rule and is refused. Families 0–37, 39 and 41–45 are allowed.
 */
function socketRules(): SeccompRule[] {
  const rules: SeccompRule[] = [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_ALG - 1, op: 'SCMP_CMP_LE' }] }];
  for (let family = AF_ALG + 1; family < AF_MAX; family++) {
    if (family !== AF_VSOCK) rules.push({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [eq(0, family)] });
  }
  return rules;
}

/** The OCI `linux.seccomp` object for the host's architecture. */
export function defaultSeccompProfile(arch: string = process.arch): SeccompProfile {
  const architectures = arch === 'arm64' ? ['SCMP_ARCH_AARCH64'] : ['SCMP_ARCH_X86_64'];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures,
    syscalls: [
      { names: ALLOWED, action: 'SCMP_ACT_ALLOW' },
      ...PERSONALITIES.map((p): SeccompRule => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [eq(0, p)] })),
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes libc fall back to clone.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      ...socketRules(),
    ],
  };
}
