# The engine's tool runner (see tool-runner.ts): runs short host tools (ip, mount, iptables, runc kill, ...)
# on the engine's behalf and reports how each ended. It exists because a fork costs the forking process time
# in proportion to its memory: milliseconds for a Node engine of 100+ MB, during which its event loop is
# blocked; this process is a few MB. Plain perl-base modules only: perl-base is Essential in Debian.
#
# Protocol on stdin/stdout, every frame a 32-bit big-endian length then that many bytes:
#   request:  id, timeout ms, cwd, input flag, input, env flag, env, argv
#   reply:    id, how (0 exited, 1 killed by a signal, 2 timed out, 3 output too large), code or signal,
#             stdout, stderr
# Numbers are 32-bit big-endian, strings length-prefixed; env (KEY=value entries) and argv are NUL-joined
# (execve cannot pass a NUL anyway). The runner exits when its
# stdin closes and the tools it runs have ended.
use strict;
use warnings;
use POSIX qw(:sys_wait_h _exit);
use IO::Select;
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);

my $REQUEST = 'N N N/a* N N/a* N N/a* N/a*';
my $MAX_OUTPUT = 64 * 1024 * 1024;

my %jobs;        # pid => job
my %by_fd;       # fileno => [job, 'out' | 'err' | 'in']
my $requests = '';
my $stdin_open = 1;
binmode STDIN;
binmode STDOUT;
$SIG{PIPE} = 'IGNORE';

sub nonblocking { my ($fh) = @_; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK) }

# A tool's exit wakes the loop through this pipe (a signal alone could land just before select() and be missed).
pipe(my $wake_r, my $wake_w) or die "pipe: $!";
nonblocking($_) for $wake_r, $wake_w;
$SIG{CHLD} = sub { syswrite($wake_w, 'x') };
my $readers = IO::Select->new(\*STDIN, $wake_r);
my $writers = IO::Select->new();

sub reply {
  my ($job, $how, $code) = @_;
  my $frame = pack('N N N N/a* N/a*', $job->{id}, $how, $code, $job->{out}, $job->{err});
  print STDOUT pack('N/a*', $frame);
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
  my ($id, $timeout, $cwd, $has_input, $input, $set_env, $env, $argv) = @_;
  # Whole seconds (Time::HiRes is not in perl-base): a deadline may be up to a second late.
  my $job = { id => $id, out => '', err => '', input => $input, deadline => time + int(($timeout + 999) / 1000) };
  pipe(my $out_r, my $out_w) or die "pipe: $!";
  pipe(my $err_r, my $err_w) or die "pipe: $!";
  my ($in_r, $in_w);
  if ($has_input) { pipe($in_r, $in_w) or die "pipe: $!" }
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if ($pid == 0) {
    # perl opens pipes close-on-exec: only the three dup2'd below reach the tool. An ignored signal stays
    # ignored across exec: the tool gets SIGPIPE back.
    $SIG{PIPE} = 'DEFAULT';
    $SIG{CHLD} = 'DEFAULT';
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
  $job->{pid} = $pid;
  $jobs{$pid} = $job;
  for ([out => $out_r], [err => $err_r]) {
    my ($which, $fh) = @$_;
    nonblocking($fh);
    $job->{"fh_$which"} = $fh;
    $by_fd{fileno $fh} = [$job, $which];
    $readers->add($fh);
  }
  if ($has_input) {
    close $in_r;
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
    my ($id, $timeout, $cwd, $has_input, $input, $set_env, $env, $argv) = unpack($REQUEST, $frame);
    start($id, $timeout, $cwd, $has_input, $input, $set_env, [split /\0/, $env], [split /\0/, $argv, -1]);
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
    $job->{ended} = 3;
    kill 'KILL', $job->{pid};
  }
}

sub reap {
  for my $pid (keys %jobs) {
    my $job = $jobs{$pid};
    if (!$job->{ended} && time >= $job->{deadline}) {
      $job->{ended} = 2;
      kill 'KILL', $pid;
    }
    next if $job->{fh_out} || $job->{fh_err};
    next if waitpid($pid, WNOHANG) != $pid;
    my $status = $?;
    close_stream($job, 'in');
    delete $jobs{$pid};
    if ($job->{ended}) { reply($job, $job->{ended}, 0) }
    elsif (WIFSIGNALED($status)) { reply($job, 1, WTERMSIG($status)) }
    else { reply($job, 0, WEXITSTATUS($status)) }
  }
}

while ($stdin_open || %jobs) {
  # With tools running, wake at least every second to enforce their deadlines.
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
