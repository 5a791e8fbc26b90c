# The engine's tool runner (see tool-runner.ts): starts host programs on the engine's behalf. It exists
# because a fork costs the forking process time in proportion to its memory: milliseconds for a Node engine
# of 100+ MB, during which its event loop is blocked; this process is a few MB. Plain perl-base modules
# only: perl-base is Essential in Debian.
#
# Two ways to run a program:
# - captured: the runner feeds it its input, collects its output and reports how it ended, with the output
#   (ip, mount, iptables, runc kill, ...);
# - streamed: the runner gives it pipes, reports its pid and the numbers of the runner's ends of them at once
#   (the engine opens its own ends through /proc/<runner>/fd and then releases the runner's), and reports how
#   it ended, later (runc run and runc exec: the engine streams their stdio itself). It starts in a session
#   of its own: terminal signals meant for the engine do not reach it.
#
# Protocol on stdin/stdout, every frame a 32-bit big-endian length then that many bytes:
#   request: op (0 captured, 1 streamed, 2 release a streamed program's pipes, 3 kill a streamed program if it
#            still runs: the runner alone knows whether its pid is still its own), id, timeout ms (0: none),
#            cwd, input flag (streamed: whether to give it a stdin pipe), input, env flag, env, argv
#   reply:   id, how (0 exited, 1 killed by a signal, 2 timed out, 3 output too large, 4 started),
#            code (exit code, signal, or for "started" the pid), stdout, stderr (for "started": stdout holds
#            the runner's three descriptor numbers, stdin's 0xffffffff when there is none)
# Numbers are 32-bit big-endian, strings length-prefixed; env (KEY=value entries) and argv are NUL-joined
# (execve cannot pass a NUL anyway). The runner exits when its stdin closes and its captured programs have
# ended; streamed ones (containers) are left running, as they were when the engine itself started them.
use strict;
use warnings;
use POSIX qw(:sys_wait_h _exit setsid);
use IO::Select;
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC F_GETFL F_SETFL O_NONBLOCK);

my $REQUEST = 'N N N N/a* N N/a* N N/a* N/a*';
my ($CAPTURED, $STREAMED, $RELEASE, $KILL) = (0, 1, 2, 3);
my ($EXITED, $SIGNALED, $TIMED_OUT, $TOO_LARGE, $STARTED) = (0, 1, 2, 3, 4);
my $MAX_OUTPUT = 64 * 1024 * 1024;

my %jobs;        # pid => job
my %held;        # id => the runner's ends of a streamed program's pipes, until the engine releases them
my %by_fd;       # fileno => [job, 'out' | 'err' | 'in'], for captured programs' pipes
my $requests = '';
my $stdin_open = 1;
binmode STDIN;
binmode STDOUT;
$SIG{PIPE} = 'IGNORE';

# Descriptors the engine's process left open without close-on-exec are not the programs' business. (The
# handles are kept: a handle made with '<&=' closes its descriptor when it goes.)
my @inherited;
for my $fd (grep { /^\d+$/ && $_ > 2 } map { s{.*/}{}r } glob '/proc/self/fd/*') {
  open(my $fh, '<&=', $fd) or next;
  fcntl($fh, F_SETFD, fcntl($fh, F_GETFD, 0) | FD_CLOEXEC);
  push @inherited, $fh;
}

sub nonblocking { my ($fh) = @_; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK) }

# A program's exit wakes the loop through this pipe (a signal alone could land just before select() and be missed).
pipe(my $wake_r, my $wake_w) or die "pipe: $!";
nonblocking($_) for $wake_r, $wake_w;
$SIG{CHLD} = sub { syswrite($wake_w, 'x') };
my $readers = IO::Select->new(\*STDIN, $wake_r);
my $writers = IO::Select->new();

sub reply {
  my ($id, $how, $code, $out, $err) = @_;
  print STDOUT pack('N/a*', pack('N N N N/a* N/a*', $id, $how, $code, $out, $err));
  STDOUT->flush();
}

sub close_stream {
  my ($job, $which) = @_;
  my $fh = delete $job->{"fh_$which"} or return;
  delete $by_fd{fileno $fh};
  $readers->remove($fh);
  $writers->remove($fh);
  close $fh;
}

sub start {
  my ($op, $id, $timeout, $cwd, $has_input, $input, $set_env, $env, $argv) = @_;
  # Whole seconds (Time::HiRes is not in perl-base): a deadline may be up to a second late.
  my $job = { id => $id, op => $op, out => '', err => '', input => $input };
  $job->{deadline} = time + int(($timeout + 999) / 1000) if $timeout > 0;
  # Out of descriptors or processes (EMFILE, EAGAIN): that program fails, the runner goes on.
  my ($out_r, $out_w, $err_r, $err_w, $in_r, $in_w);
  my $pid;
  if (!pipe($out_r, $out_w) || !pipe($err_r, $err_w) || ($has_input && !pipe($in_r, $in_w)) || !defined($pid = fork)) {
    reply($id, $EXITED, 127, '', "$argv->[0]: cannot start: $!\n");
    return;
  }
  if ($pid == 0) {
    # perl opens pipes close-on-exec: only the three dup2'd below reach the program. Ignored signals stay
    # ignored across exec: the program gets SIGPIPE back.
    $SIG{PIPE} = 'DEFAULT';
    $SIG{CHLD} = 'DEFAULT';
    setsid() if $op == $STREAMED;
    if ($has_input) { POSIX::dup2(fileno $in_r, 0) } else { open(STDIN, '<', '/dev/null') }
    POSIX::dup2(fileno $out_w, 1);
    POSIX::dup2(fileno $err_w, 2);
    if (length $cwd && !chdir $cwd) { print STDERR "chdir $cwd: $!\n"; _exit(127) }
    %ENV = map { split /=/, $_, 2 } @$env if $set_env;
    { no warnings 'exec'; exec { $argv->[0] } @$argv }
    print STDERR "$argv->[0]: $!\n";
    _exit(127);
  }
  close $out_w;
  close $err_w;
  close $in_r if $has_input;
  $job->{pid} = $pid;
  $jobs{$pid} = $job;
  if ($op == $STREAMED) {
    # Kept open even after the program ends, until released: what it wrote stays readable until then.
    $held{$id} = [grep { defined } $in_w, $out_r, $err_r];
    reply($id, $STARTED, $pid, pack('N N N', $has_input ? fileno $in_w : 0xffffffff, fileno $out_r, fileno $err_r), '');
    return;
  }
  for ([out => $out_r], [err => $err_r]) {
    my ($which, $fh) = @$_;
    nonblocking($fh);
    $job->{"fh_$which"} = $fh;
    $by_fd{fileno $fh} = [$job, $which];
    $readers->add($fh);
  }
  if ($has_input) {
    nonblocking($in_w);
    $job->{fh_in} = $in_w;
    $by_fd{fileno $in_w} = [$job, 'in'];
    $writers->add($in_w);
  }
}

sub take_requests {
  while (length $requests >= 4) {
    my $len = unpack('N', $requests);
    last if length $requests < 4 + $len;
    my $frame = substr($requests, 4, $len);
    substr($requests, 0, 4 + $len) = '';
    my ($op, $id, $timeout, $cwd, $has_input, $input, $set_env, $env, $argv) = unpack($REQUEST, $frame);
    if ($op == $RELEASE) {
      close $_ for @{ delete $held{$id} // [] };
      next;
    }
    if ($op == $KILL) {
      kill 'KILL', map { $_->{pid} } grep { $_->{id} == $id } values %jobs;
      next;
    }
    start($op, $id, $timeout, $cwd, $has_input, $input, $set_env, [split /\0/, $env], [split /\0/, $argv, -1]);
  }
}

sub pump {
  my ($fh) = @_;
  my ($job, $which) = @{ $by_fd{fileno $fh} };
  if ($which eq 'in') {
    my $n = syswrite($fh, $job->{input});
    if (!defined $n) { close_stream($job, 'in') unless $!{EAGAIN}; return }
    substr($job->{input}, 0, $n) = '';
    close_stream($job, 'in') if length $job->{input} == 0;
    return;
  }
  my $n = sysread($fh, my $chunk, 65536);
  if (!defined $n) { close_stream($job, $which) unless $!{EAGAIN}; return }
  if ($n == 0) { close_stream($job, $which); return }
  $job->{$which} .= $chunk;
  if (length($job->{out}) + length($job->{err}) > $MAX_OUTPUT && !$job->{ended}) {
    $job->{ended} = $TOO_LARGE;
    kill 'KILL', $job->{pid};
  }
}

sub reap {
  for my $pid (keys %jobs) {
    my $job = $jobs{$pid};
    if (!$job->{ended} && $job->{deadline} && time >= $job->{deadline}) {
      $job->{ended} = $TIMED_OUT;
      kill 'KILL', $pid;
    }
    # A captured program's output is complete only once both pipes are closed.
    next if $job->{fh_out} || $job->{fh_err};
    next if waitpid($pid, WNOHANG) != $pid;
    my $status = $?;
    close_stream($job, 'in');
    delete $jobs{$pid};
    my ($out, $err) = @$job{qw(out err)};
    if ($job->{ended}) { reply($job->{id}, $job->{ended}, 0, $out, $err) }
    elsif (WIFSIGNALED($status)) { reply($job->{id}, $SIGNALED, WTERMSIG($status), $out, $err) }
    else { reply($job->{id}, $EXITED, WEXITSTATUS($status), $out, $err) }
  }
}

while ($stdin_open || grep { $_->{op} == $CAPTURED } values %jobs) {
  # With programs running, wake at least every second to enforce their deadlines.
  my ($readable, $writable) = IO::Select->select($readers, $writers, undef, %jobs ? 1 : undef);
  for my $fh (@{ $readable // [] }) {
    if ($fh == $wake_r) {
      1 while sysread($wake_r, my $drained, 512);
    } elsif (fileno($fh) == 0) {
      my $n = sysread(STDIN, my $chunk, 65536);
      if (!$n) { $stdin_open = 0; $readers->remove(\*STDIN); next }
      $requests .= $chunk;
      take_requests();
    } else {
      pump($fh);
    }
  }
  pump($_) for @{ $writable // [] };
  reap();
}
