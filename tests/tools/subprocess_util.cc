// Running child processes for the end-to-end tests (see subprocess_util.h).
#include "subprocess_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ringdb::shell::testing {

namespace {

pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options,
            int* in, int* out, int* err) {
  int pin[2], pout[2], perr[2];
  if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
      pipe2(perr, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::abort();
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    dup2(pin[0], 0);
    dup2(pout[1], 1);
    dup2(perr[1], 2);
    // Start as a login shell would start it: default SIGPIPE (this process
    // ignores it, and exec keeps an ignored disposition), nothing blocked.
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pin[0]);
  close(pout[1]);
  close(perr[1]);
  *in = pin[1];
  *out = pout[0];
  *err = perr[0];
  return pid;
}

void ReadAll(int fd, std::string* out) {
  char buf[65536];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      out->append(buf, n);
    } else if (n == 0 || errno != EINTR) {
      return;
    }
  }
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // The child stopped reading.
    done += n;
  }
}

void Reap(pid_t pid, ProcessResult* result) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->term_signal = WTERMSIG(status);
  }
}

struct IgnoreSigpipe {
  IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }
} ignore_sigpipe;

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::string& input, const SpawnOptions& options) {
  int in, out, err;
  const pid_t pid = Spawn(argv, options, &in, &out, &err);
  ProcessResult result;
  std::thread writer([&] {
    WriteAll(in, input);
    close(in);
  });
  std::thread err_reader([&] { ReadAll(err, &result.err); });
  ReadAll(out, &result.out);
  writer.join();
  err_reader.join();
  close(out);
  close(err);
  Reap(pid, &result);
  return result;
}

Child::Child(const std::vector<std::string>& argv, const SpawnOptions& options) {
  pid_ = Spawn(argv, options, &in_, &out_, &err_);
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    ProcessResult ignored;
    Reap(pid_, &ignored);
  }
  for (int fd : {in_, out_, err_}) {
    if (fd >= 0) close(fd);
  }
}

bool Child::Write(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(in_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

void Child::CloseStdout() {
  if (out_ >= 0) close(out_);
  out_ = -1;
}

void Child::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

bool Child::ReadLine(std::string* line, int timeout_ms) {
  while (true) {
    const size_t nl = out_buf_.find('\n');
    if (nl != std::string::npos) {
      line->assign(out_buf_, 0, nl);
      out_buf_.erase(0, nl + 1);
      return true;
    }
    pollfd pfd{out_, POLLIN, 0};
    const int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof(buf));
    if (n <= 0) return false;
    out_buf_.append(buf, n);
  }
}

void Child::Kill(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

ProcessResult Child::Wait() {
  ProcessResult result;
  CloseStdin();
  std::thread err_reader([&] { ReadAll(err_, &result.err); });
  result.out = out_buf_;
  out_buf_.clear();
  ReadAll(out_, &result.out);
  err_reader.join();
  Reap(pid_, &result);
  pid_ = -1;
  return result;
}

}  // namespace ringdb::shell::testing
